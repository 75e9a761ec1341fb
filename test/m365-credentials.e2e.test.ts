import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialError, type TokenHttp } from '../connectors/contract.js';
import { plainTokenHttp } from '../connectors/simulated/direct-http.js';
import { type M365Emulator } from '../emulators/m365/index.js';
import { startTrustedM365, type TrustedM365Emulator } from './m365-emulator.js';

/**
 * Certificate credentials end to end: MSAL signs a client assertion with the certificate's private
 * key and the emulator's token endpoint (over HTTPS, as MSAL requires) verifies it against the
 * registered certificate. The
 * certificate and key under test/fixtures were made for these tests only (a self-signed RSA 2048
 * certificate; `openssl req -x509 -newkey rsa:2048 -nodes`).
 */

const TENANT_ID = '5e7c1a2b-3d4e-4f5a-8b6c-7d8e9f0a1b2c';
const CLIENT_ID = '9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d';
const fixture = (name: string) => fs.readFileSync(path.join(import.meta.dirname, 'fixtures', name), 'utf8');
const certificatePem = fixture('m365-test-client.crt');
const privateKeyPem = fixture('m365-test-client.key');

let emulator: M365Emulator;
let m365: TrustedM365Emulator;

beforeAll(async () => {
  m365 = await startTrustedM365({
    tenants: [
      {
        tenantId: TENANT_ID,
        users: 5,
        files: 2,
        clients: [{ clientId: CLIENT_ID, certificatePem, roles: ['User.Read.All', 'AuditLog.Read.All'] }],
      },
    ],
  });
  emulator = m365.emulator;
});

afterAll(async () => {
  await m365?.stop();
});

/** The token requests' bodies MSAL sent, as the emulator received them. */
const sent: { url: string; body: string }[] = [];
const recording: TokenHttp = {
  postForm: (url, form) => plainTokenHttp.postForm(url, form),
  send: (method, url, init) => {
    if (method === 'POST') sent.push({ url, body: init?.body ?? '' });
    return plainTokenHttp.send(method, url, init);
  },
};

const connectorWith = (certificate: { certificatePem: string; privateKeyPem: string }) =>
  m365.connector({ tenantId: TENANT_ID, clientId: CLIENT_ID, certificate }, recording);

describe('Microsoft 365 certificate credentials', () => {
  it('acquires a token with a certificate assertion and reads the granted permissions from it', async () => {
    const { connector } = connectorWith({ certificatePem, privateKeyPem });
    const report = await connector.verify();
    expect(report.grantedPermissions).toEqual(['User.Read.All', 'AuditLog.Read.All']);
    expect(report.capabilities).toEqual(['AUDIT_TRAIL']);
    expect(report.missingPermissions).toContain('GroupMember.Read.All');
    expect(report.tenantId).toBe(TENANT_ID);
  });

  it('is refused, in Tenantwatch’s words, when the assertion is signed with another key', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const { credentials } = connectorWith({ certificatePem, privateKeyPem: other });
    const failure = credentials.headers();
    await expect(failure).rejects.toBeInstanceOf(CredentialError);
    await expect(failure).rejects.toThrow('The identity provider refused to issue an access token (HTTP 401: invalid_client)');
  });

  it('sends an assertion naming the certificate by its SHA-256 thumbprint, for the token endpoint, short-lived', async () => {
    sent.length = 0;
    const { credentials } = connectorWith({ certificatePem, privateKeyPem });
    await credentials.headers();
    const tokenUrl = `${emulator.authorityHost}/${TENANT_ID}/oauth2/v2.0/token`;
    const request = sent.find((r) => r.url.split('?')[0] === tokenUrl)!;
    const form = new URLSearchParams(request.body);
    expect(form.get('client_assertion_type')).toBe('urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
    expect(form.get('client_secret')).toBeNull();
    const [header, claims] = form
      .get('client_assertion')!
      .split('.')
      .slice(0, 2)
      .map((part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: expect.stringMatching(/^(RS|PS)256$/), 'x5t#S256': expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(claims).toMatchObject({ aud: tokenUrl, iss: CLIENT_ID, sub: CLIENT_ID });
    expect((claims.exp as number) - (claims.nbf as number)).toBeLessThanOrEqual(600);
  });
});
