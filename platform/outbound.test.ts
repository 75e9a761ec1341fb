import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { endpointRefusal, isPublicAddress, outboundDispatcher, outboundRefusalOf } from './outbound.js';

describe('isPublicAddress', () => {
  it.each([
    '0.0.0.0',
    '10.1.2.3',
    '100.64.0.1',
    '127.0.0.1',
    '127.255.255.254',
    '169.254.169.254',
    '172.16.0.1',
    '172.31.255.255',
    '192.0.0.8',
    '192.0.2.1',
    '192.168.1.1',
    '198.18.0.1',
    '224.0.0.1',
    '239.255.255.250',
    '240.0.0.1',
    '255.255.255.255',
    '::',
    '::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '::127.0.0.1',
    '64:ff9b::a00:1',
    '2001:db8::1',
    '2002:a00:1::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    'not an address',
  ])('refuses %s', (address) => {
    expect(isPublicAddress(address)).toBe(false);
  });

  it.each(['8.8.8.8', '1.1.1.1', '20.190.128.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '2a00:1450:4001::1'])(
    'allows %s',
    (address) => {
      expect(isPublicAddress(address)).toBe(true);
    },
  );
});

describe('endpointRefusal', () => {
  it.each([
    'http://127.0.0.1:4900',
    'http://0x7f.1/',
    'http://2130706433/',
    'http://0/',
    'http://017700000001/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::1]:8080/api',
    'https://169.254.169.254/latest/meta-data/',
    'http://10.0.0.5',
    'http://localhost:4900',
    'http://api.localhost/',
  ])('refuses %s when private endpoints are not allowed', (endpoint) => {
    expect(endpointRefusal(endpoint, false)).toMatch(/CONNECTOR_ALLOW_PRIVATE=true/);
    expect(endpointRefusal(endpoint, true)).toBeNull();
  });

  it('allows a public name or address, and leaves names to the connection-time check', () => {
    expect(endpointRefusal('https://graph.microsoft.com/v1.0', false)).toBeNull();
    expect(endpointRefusal('https://8.8.8.8/', false)).toBeNull();
  });

  it('refuses what is not an http(s) URL, or carries credentials, whatever the policy', () => {
    expect(endpointRefusal('file:///etc/passwd', true)).toMatch(/http or https/);
    expect(endpointRefusal('gopher://example.com/', true)).toMatch(/http or https/);
    expect(endpointRefusal('not a url', true)).toMatch(/absolute http or https URL/);
    expect(endpointRefusal('https://user:secret@example.com/', true)).toMatch(/credentials/);
  });
});

describe('outboundDispatcher', () => {
  let server: http.Server;
  let port: number;
  let requests = 0;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      requests += 1;
      res.end('reached');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('lets everything through when private endpoints are allowed', () => {
    expect(outboundDispatcher(true)).toBeUndefined();
  });

  it('refuses a name resolving to loopback and a loopback literal before anything is sent, and says why', async () => {
    const dispatcher = outboundDispatcher(false)!;
    try {
      const before = requests;
      for (const url of [`http://localhost:${port}/`, `http://127.0.0.1:${port}/`, `http://[::ffff:127.0.0.1]:${port}/`]) {
        const failure = await fetch(url, { dispatcher } as RequestInit).then(
          () => undefined,
          (error: unknown) => error,
        );
        const refusal = outboundRefusalOf(failure);
        expect(refusal?.message, url).toMatch(/not a public internet address; refused by the outbound policy/);
      }
      expect(requests).toBe(before);
      // The same server is reached without the policy.
      expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('reached');
    } finally {
      await dispatcher.close();
    }
  });
});

describe('outboundDispatcher with CONNECTOR_CA_FILE', () => {
  it('trusts the extra authority beside the system’s, and nothing is trusted without it', async () => {
    const { generate } = await import('selfsigned');
    const pems = await generate([{ name: 'commonName', value: '127.0.0.1' }], {
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }] }],
    });
    const https = await import('node:https');
    const server = https.createServer({ key: pems.private, cert: pems.cert }, (_req, res) => res.end('trusted'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const trusting = outboundDispatcher(true, pems.cert)!;
    try {
      expect(await (await fetch(url, { dispatcher: trusting } as RequestInit)).text()).toBe('trusted');
      const untrusted = await fetch(url).then(
        () => undefined,
        (error: unknown) => (error as { cause?: { code?: string } }).cause?.code,
      );
      expect(untrusted).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await trusting.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
