import { afterEach, describe, expect, it } from 'vitest';
import { call, ManualClock, simulator, smallTenant } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const OAUTH = { clientId: 'acme-client', clientSecret: 'acme-client-secret', tokenLifetimeSeconds: 60 };

const tokenRequest = (url: string, form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') =>
  fetch(`${url}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: new URLSearchParams(form).toString(),
  }).then(async (response) => ({
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  }));

const grant = { grant_type: 'client_credentials', client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret };

describe("the simulator's token endpoint", () => {
  it('issues access tokens for the client credentials grant that work until they expire', async () => {
    const clock = new ManualClock();
    const sim = await simulator(track, { tenants: [smallTenant({ oauth: OAUTH })], clock: clock.now });
    const answer = await tokenRequest(sim.url, grant);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toEqual({ access_token: expect.stringMatching(/^sat_/), token_type: 'Bearer', expires_in: 60 });
    const token = answer.body.access_token as string;
    expect((await call(sim.url, '/api/v1/me', token)).status).toBe(200);
    clock.advance(59_999);
    expect((await call(sim.url, '/api/v1/me', token)).status).toBe(200);
    clock.advance(1);
    const expired = await call<{ error: string; message: string }>(sim.url, '/api/v1/me', token);
    expect(expired).toMatchObject({ status: 401, body: { error: 'invalid_token', message: 'the access token expired' } });
    // The tenant's fixed token is not affected.
    expect((await call(sim.url, '/api/v1/me', 'acme-test-token')).status).toBe(200);
  });

  it('answers RFC 6749 errors: a wrong secret, an unknown client, another grant type, a missing field, a JSON body', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ oauth: OAUTH })] });
    const cases: [Record<string, string>, number, string][] = [
      [{ ...grant, client_secret: 'wrong-secret' }, 401, 'invalid_client'],
      [{ ...grant, client_id: 'nobody' }, 401, 'invalid_client'],
      [{ ...grant, grant_type: 'password' }, 400, 'unsupported_grant_type'],
      [{ grant_type: 'client_credentials', client_id: OAUTH.clientId }, 400, 'invalid_request'],
      [{ client_id: OAUTH.clientId, client_secret: OAUTH.clientSecret }, 400, 'invalid_request'],
    ];
    for (const [form, status, error] of cases) {
      const answer = await tokenRequest(sim.url, form);
      expect({ status: answer.status, error: answer.body.error }, JSON.stringify(form)).toEqual({ status, error });
      expect(typeof answer.body.error_description).toBe('string');
    }
    const json = await tokenRequest(sim.url, grant, 'application/json');
    expect(json).toMatchObject({ status: 400, body: { error: 'invalid_request' } });
  });

  it('expires every issued token from the admin API, and refuses the old secret after a rotation', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ oauth: OAUTH })] });
    const token = (await tokenRequest(sim.url, grant)).body.access_token as string;
    const expire = await fetch(`${sim.url}/admin/tenants/acme/oauth/expire`, { method: 'POST' });
    expect(await expire.json()).toEqual({ expired: 1 });
    expect((await call(sim.url, '/api/v1/me', token)).status).toBe(401);
    sim.tenant('acme').update({ oauth: { ...OAUTH, clientSecret: 'rotated-secret-value' } });
    expect((await tokenRequest(sim.url, grant)).status).toBe(401);
    expect((await tokenRequest(sim.url, { ...grant, client_secret: 'rotated-secret-value' })).status).toBe(200);
    sim.tenant('acme').update({ oauth: null });
    expect((await tokenRequest(sim.url, { ...grant, client_secret: 'rotated-secret-value' })).body.error).toBe('invalid_client');
  });

  it('refuses a second tenant with the same OAuth client id', async () => {
    const sim = await simulator(track, { tenants: [smallTenant({ oauth: OAUTH })] });
    expect(() => sim.addTenant(smallTenant({ id: 'other', token: 'other-test-token', oauth: OAUTH }))).toThrow(
      'tenant.oauth.clientId: already used by another tenant',
    );
  });
});
