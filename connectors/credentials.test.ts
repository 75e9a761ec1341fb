import { afterEach, describe, expect, it } from 'vitest';
import { CredentialError, type TokenHttp } from './contract.js';
import { ClientCredentialsTokens, StaticTokenCredentials } from './credentials.js';
import { plainTokenHttp } from './simulated/direct-http.js';
import { ManualClock, simulator, smallTenant } from './simulated/test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const OAUTH = { clientId: 'acme-client', clientSecret: 'acme-client-secret', tokenLifetimeSeconds: 1000 };

/** The simulator's token endpoint, counting the requests that reach it. */
async function tokenEndpoint(clock: ManualClock) {
  const sim = await simulator(track, { tenants: [smallTenant({ oauth: OAUTH })], clock: clock.now });
  let requests = 0;
  const http: TokenHttp = {
    postForm: (url, form) => {
      requests++;
      return plainTokenHttp.postForm(url, form);
    },
    send: (method, url, init) => {
      requests++;
      return plainTokenHttp.send(method, url, init);
    },
  };
  const tokens = (secret = OAUTH.clientSecret) =>
    new ClientCredentialsTokens(
      {
        tokenUrl: `${sim.url}/oauth/token`,
        clientId: OAUTH.clientId,
        clientAuth: { secret },
        scopes: { default: 'api', audit: 'audit-api' },
      },
      http,
      clock.now,
    );
  return { sim, tokens, requests: () => requests };
}

describe('StaticTokenCredentials', () => {
  it('answers the fixed bearer token for every service', async () => {
    const credentials = new StaticTokenCredentials('t-1');
    expect(await credentials.headers()).toEqual({ authorization: 'Bearer t-1' });
    credentials.invalidate();
    expect(await credentials.headers()).toEqual({ authorization: 'Bearer t-1' });
  });
});

describe('ClientCredentialsTokens', () => {
  it('acquires one token, shares it between concurrent requests, and keeps it until a fifth of its life is left', async () => {
    const clock = new ManualClock();
    const { tokens, requests } = await tokenEndpoint(clock);
    const credentials = tokens();
    const first = await Promise.all([credentials.headers(), credentials.headers(), credentials.headers()]);
    expect(new Set(first.map((h) => h.authorization)).size).toBe(1);
    expect(first[0]!.authorization).toMatch(/^Bearer sat_/);
    expect(requests()).toBe(1);
    clock.advance(799_999); // 1000 s lifetime: refreshed when 200 s (a fifth) are left
    expect(await credentials.headers()).toEqual(first[0]);
    expect(requests()).toBe(1);
    clock.advance(1);
    const refreshed = await credentials.headers();
    expect(refreshed).not.toEqual(first[0]);
    expect(requests()).toBe(2);
  });

  it('keeps one token per scope: services without a scope of their own share the default one, and only the invalidated one is forgotten', async () => {
    const clock = new ManualClock();
    const { tokens, requests } = await tokenEndpoint(clock);
    const credentials = tokens();
    const api = await credentials.headers();
    const audit = await credentials.headers('audit');
    expect(api).not.toEqual(audit);
    expect(requests()).toBe(2);
    // Graph's directory and files services are one audience: one token.
    expect(await credentials.headers('directory')).toEqual(api);
    expect(await credentials.headers('files')).toEqual(api);
    expect(requests()).toBe(2);
    credentials.invalidate('audit');
    expect(await credentials.headers()).toEqual(api);
    expect(await credentials.headers('audit')).not.toEqual(audit);
    expect(requests()).toBe(3);
    credentials.invalidate('files');
    expect(await credentials.headers()).not.toEqual(api);
    expect(requests()).toBe(4);
  });

  it("turns a refused grant into a CredentialError in Tenantwatch's words, with the OAuth error code", async () => {
    const clock = new ManualClock();
    const { tokens } = await tokenEndpoint(clock);
    const failure = tokens('not-the-secret').headers();
    await expect(failure).rejects.toBeInstanceOf(CredentialError);
    await expect(failure).rejects.toThrow('The identity provider refused to issue an access token (HTTP 401: invalid_client)');
  });

  it('acquires again after a failed acquisition (a refusal is not cached)', async () => {
    const clock = new ManualClock();
    const { sim, tokens, requests } = await tokenEndpoint(clock);
    sim.tenant('acme').update({ oauth: null });
    const credentials = tokens();
    await expect(credentials.headers()).rejects.toBeInstanceOf(CredentialError);
    sim.tenant('acme').update({ oauth: OAUTH });
    expect((await credentials.headers()).authorization).toMatch(/^Bearer sat_/);
    expect(requests()).toBe(2);
  });
});
