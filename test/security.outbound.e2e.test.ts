import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { smallTenant } from '../connectors/simulated/test-support.js';
import { credentialsKey } from '../platform/crypto.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';

// Where Tenantwatch calls providers, with private endpoints refused (CONNECTOR_ALLOW_PRIVATE=false,
// production's default): connectApp refuses a private endpoint at once; an instance already pointing
// at one (stored before the policy changed) is refused where the connection is made, in ERROR with
// Tenantwatch's words, and the provider is never called. With private endpoints allowed, a provider's
// refusal reaches the status message as Tenantwatch's words and an HTTP status, never its body.

let closed: TestStack;
let open: TestStack;
let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ tenants: [smallTenant({ id: 'acme', token: 'acme-outbound-token' })] });
  [closed, open] = await Promise.all([
    startTestStack({ CONNECTOR_ALLOW_PRIVATE: 'false' }, { scheduler: true }),
    startTestStack({ CONNECTOR_ALLOW_PRIVATE: 'true' }, { scheduler: true }),
  ]);
});
afterAll(async () => {
  await closed?.stop();
  await open?.stop();
  await simulator?.stop();
});

const CONNECT = 'mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "Outbound", config: $config }) { id } }';

async function statusOf(t: TestStack, id: string): Promise<{ status: string; statusMessage: string | null }> {
  const { appInstance } = await t.query<{ appInstance: { status: string; statusMessage: string | null } }>(
    `{ appInstance(id: "${id}") { status statusMessage } }`,
  );
  return appInstance;
}

describe('private endpoints refused', () => {
  it.each([
    'http://127.0.0.1:4900',
    'http://169.254.169.254/latest/meta-data',
    'http://0x7f.1:4900',
    'http://[::ffff:10.0.0.1]/',
    'http://localhost:4900',
  ])('connectApp refuses %s with BAD_USER_INPUT naming input.config.endpoint', async (endpoint) => {
    const answer = await closed.request(CONNECT, { config: { endpoint, token: 't' } });
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', argument: 'input.config.endpoint' });
    expect(answer.errors?.[0]?.message).toMatch(/CONNECTOR_ALLOW_PRIVATE=true/);
  });

  it('refuses an instance already pointing at a private address where the connection is made: ERROR, and nothing reaches it', async () => {
    const before = simulator.tenant('acme').stats().total;
    // Stored as if connected while private endpoints were allowed.
    const service = new AppInstanceService(closed.stack.subgraphs.accounts!.db.fork(), credentialsKey(closed.config));
    const { id } = await service.connect({
      provider: 'simulated',
      name: 'Stored before',
      config: { endpoint: simulator.url, token: 'acme-outbound-token' },
    });
    const failed = await waitFor('the instance in ERROR', async () => {
      const instance = await statusOf(closed, id);
      return instance.status === 'ERROR' ? instance : undefined;
    });
    expect(failed.statusMessage).toMatch(
      /^The endpoint is refused: 127\.0\.0\.1 is 127\.0\.0\.1, not a public internet address; refused by the outbound policy/,
    );
    expect(simulator.tenant('acme').stats().total).toBe(before);
  });
});

describe("a provider's refusal in Tenantwatch's words", () => {
  it('says the credentials were refused with the HTTP status, not what the provider wrote', async () => {
    const { connectApp } = await open.query<{ connectApp: { id: string } }>(CONNECT, {
      config: { endpoint: simulator.url, token: 'not-a-real-token' },
    });
    const failed = await waitFor('the instance in ERROR', async () => {
      const instance = await statusOf(open, connectApp.id);
      return instance.status === 'ERROR' ? instance : undefined;
    });
    expect(failed.statusMessage).toBe('The provider refused the credentials (HTTP 401)');
    expect(failed.statusMessage).not.toMatch(/not valid for any tenant/);
  });
});
