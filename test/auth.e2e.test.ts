import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { signToken } from '../platform/auth.js';
import { graphql, startTestStack, TEST_JWT_SECRET, type TestStack } from './harness.js';

let t: TestStack;
let instanceId: string;

beforeAll(async () => {
  t = await startTestStack();
  instanceId = await t.fixtures.instance('Auth org');
});
afterAll(() => t?.stop());

const secret = new TextEncoder().encode(TEST_JWT_SECRET);
const sign = (
  claims: Record<string, unknown>,
  { issuer = 'tenantwatch', audience = 'tenantwatch-api', expires = '1h' as string | number } = {},
) =>
  new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('tester')
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(expires)
    .sign(secret);

const READ = '{ appInstances { id } }';
const codes = (answer: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => answer.errors?.map((e) => e.extensions?.code);

describe('authentication', () => {
  it('refuses a request without a token with UNAUTHENTICATED (HTTP 401)', async () => {
    const answer = await t.request(READ, undefined, null);
    expect(answer.status).toBe(401);
    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
    expect(answer.errors?.[0]?.message).toMatch(/Authorization/);
  });

  it.each([
    [
      'a bad signature',
      () =>
        new SignJWT({ roles: ['admin'] })
          .setProtectedHeader({ alg: 'HS256' })
          .setIssuer('tenantwatch')
          .setAudience('tenantwatch-api')
          .setExpirationTime('1h')
          .sign(new TextEncoder().encode('x'.repeat(40))),
    ],
    ['an expired token', () => sign({ roles: ['admin'] }, { expires: Math.floor(Date.now() / 1000) - 60 })],
    ['another issuer', () => sign({ roles: ['admin'] }, { issuer: 'someone-else' })],
    ['another audience', () => sign({ roles: ['admin'] }, { audience: 'another-api' })],
    ['no roles claim', () => sign({})],
    ['an unknown role', () => sign({ roles: ['superuser'] })],
    ['garbage', async () => 'not.a.jwt'],
  ])('refuses %s with UNAUTHENTICATED', async (_case, make) => {
    const answer = await t.request(READ, undefined, await make());
    expect(answer.status).toBe(401);
    expect(codes(answer)).toEqual(['UNAUTHENTICATED']);
  });

  it('accepts roles given as a string or an array', async () => {
    for (const token of [await sign({ roles: 'viewer' }), await sign({ roles: ['viewer'] })]) {
      const answer = await t.request(READ, undefined, token);
      expect(answer.errors).toBeUndefined();
    }
  });

  it('makes every subgraph called directly refuse a request without a valid token', async () => {
    for (const subgraph of Object.values(t.stack.subgraphs)) {
      const missing = await graphql(subgraph.url, null, '{ _service { sdl } }');
      expect(missing.status).toBe(401);
      expect(codes(missing)).toEqual(['UNAUTHENTICATED']);
      const forged = await graphql(
        subgraph.url,
        await signToken({ ...t.config, AUTH_JWT_SECRET: 'y'.repeat(40) }, { role: 'admin' }),
        '{ _service { sdl } }',
      );
      expect(codes(forged)).toEqual(['UNAUTHENTICATED']);
      const valid = await graphql(subgraph.url, t.token('viewer'), '{ _service { sdl } }');
      expect(valid.errors).toBeUndefined();
    }
  });
});

describe('roles', () => {
  const connect = `mutation { connectApp(input: { provider: "simulated", name: "Roles", config: { endpoint: "http://127.0.0.1:9/api", token: "s" } }) { id } }`;
  const scan = () => `mutation { requestScan(instanceId: "${instanceId}", kind: USERS) { kind state } }`;
  const policy = `mutation { createPolicy(input: { name: "p", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`;

  it.each([
    ['viewer', connect, 'FORBIDDEN'],
    ['analyst', connect, 'FORBIDDEN'],
    ['responder', connect, 'FORBIDDEN'],
    ['admin', connect, undefined],
    ['responder', policy, 'FORBIDDEN'],
    ['admin', policy, undefined],
  ] as const)('%s: %s → %s', async (role, mutation, expected) => {
    const answer = await t.request(mutation, undefined, t.token(role));
    expect(codes(answer)?.[0]).toBe(expected);
    if (expected) expect(answer.errors?.[0]?.message).toMatch(/needs role admin or higher/);
  });

  it('lets only admins request scans and analysts change detection status', async () => {
    expect(codes(await t.request(scan(), undefined, t.token('responder')))).toEqual(['FORBIDDEN']);
    expect((await t.request(scan(), undefined, t.token('admin'))).errors).toBeUndefined();
    const detectionId = await t.fixtures.detection({
      policyId: await t.fixtures.policy({ name: 'p', kind: PolicyKind.ACTIVITY, severity: Severity.LOW, condition: {} }),
      severity: Severity.LOW,
      title: 't',
      description: 'd',
      instanceId,
    });
    const dismiss = `mutation { setDetectionStatus(id: "${detectionId}", status: DISMISSED, comment: "benign") { status } }`;
    expect(codes(await t.request(dismiss, undefined, t.token('viewer')))).toEqual(['FORBIDDEN']);
    const answer = await t.request<{ setDetectionStatus: { status: string } }>(dismiss, undefined, t.token('analyst'));
    expect(answer.data?.setDetectionStatus.status).toBe('DISMISSED');
  });

  it('lets a viewer read everything', async () => {
    const answer = await t.request(
      '{ appInstances { id } accounts { totalCount } activities { totalCount } files { totalCount } appPermissions { totalCount } policies { id } detections { totalCount } governanceActions { totalCount } groups { totalCount } }',
      undefined,
      t.token('viewer'),
    );
    expect(answer.errors).toBeUndefined();
  });
});
