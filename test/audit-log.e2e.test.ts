import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { GATEWAY_SECRET_HEADER, GATEWAY_SECRET_PARAM, signToken } from '../platform/auth.js';
import { AuditLog } from '../platform/audit/audit-log.js';
import { CLIENT_ADDRESS_HEADER } from '../platform/audit/client-address.js';
import { REDACTED } from '../platform/audit/redact.js';
import { MAX_ADDRESSES_PER_WINDOW, OTHER_ADDRESSES, recordRefusals } from '../platform/audit/refusals.js';
import { startAuditRetention } from '../platform/audit/retention.js';
import { AccountStatus } from '../platform/vocabulary/account-status.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { startTestStack, waitFor, type GraphQLAnswer, type TestStack } from './harness.js';
import { connect, disposeClients } from './subscription-client.js';

/**
 * Tenantwatch's own audit log through the gateway: every kind of mutation (instances, policies,
 * alert sinks, governance, detection triage) and refused authentications (HTTP and websocket) are
 * recorded with who, what, result and from where; no secret given or answered lands in the table;
 * auditEvents is the unscoped admin's alone, filtered and paginated; the table is append-only and
 * retention prunes it.
 */

const GATEWAY_SECRET = 'gateway-shared-secret-0123456789abcdef';
/** Every secret the test hands to Tenantwatch or receives from it; none may reach the audit table. */
const secrets: string[] = [
  'SECRET-connect-token-4f1c9a',
  'SECRET-client-secret-77ab21',
  'SECRET-updated-token-0c3e55',
  'SECRET-google-sa-key-9d8e7f',
  'sink-path-secret-5a6b7c',
  'query-secret-8d9e0f',
  'SECRET-inline-literal-3b2a1c',
  GATEWAY_SECRET,
];

let t: TestStack;
let instanceId: string;

interface AuditEventNode {
  id: string;
  at: string;
  kind: string;
  action: string;
  service: string;
  subject: string | null;
  role: string | null;
  instances: string[] | null;
  input: Record<string, unknown>;
  result: string;
  clientAddress: string | null;
  requestId: string | null;
  occurrences: number;
}
interface AuditPage {
  auditEvents: { edges: { node: AuditEventNode }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null }; totalCount: number };
}

const AUDIT_QUERY = `query ($filter: AuditEventFilterInput, $first: Int, $after: String) {
  auditEvents(filter: $filter, first: $first, after: $after) {
    edges { node { id at kind action service subject role instances input result clientAddress requestId occurrences } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

const audit = async (filter: Record<string, unknown> = {}, first = 100, after?: string) =>
  (await t.query<AuditPage>(AUDIT_QUERY, { filter, first, after })).auditEvents;

/** The newest audit event of `action`, waited for. */
const newest = (action: string) => waitFor(`an audit event for ${action}`, async () => (await audit({ action }, 1)).edges[0]?.node);

const knex = () => t.stack.subgraphs.accounts!.db.knex();

/** The code of an answer's first error, or OK. */
const resultOf = (answer: GraphQLAnswer) => (answer.errors?.[0]?.extensions?.code as string | undefined) ?? 'OK';

beforeAll(async () => {
  t = await startTestStack({ GATEWAY_SHARED_SECRET: GATEWAY_SECRET });
});
afterAll(async () => {
  await disposeClients();
  await t?.stop();
});

describe('the audit log', () => {
  it('records an instance connected with credentials, and keeps the credentials out', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      'mutation Connect($config: JSON!) { connectApp(input: { provider: "simulated", name: "audited", config: $config }) { id } }',
      { config: { endpoint: 'http://127.0.0.1:9/api', token: secrets[0], webhookSecret: secrets[1] } },
    );
    instanceId = connectApp.id;
    const event = await newest('connectApp');
    expect(event).toMatchObject({
      kind: 'MUTATION',
      service: 'accounts',
      subject: 'dev-admin',
      role: 'admin',
      instances: null,
      result: 'OK',
    });
    expect(event.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(event.input).toEqual({
      input: {
        provider: 'simulated',
        name: 'audited',
        config: { endpoint: 'http://127.0.0.1:9/api', token: REDACTED, webhookSecret: REDACTED },
      },
    });
  });

  it("redacts a connector's secret config field by its declaration, under any name", async () => {
    // `serviceAccountKey` matches no generic pattern: only the google connector's field list marks it secret.
    const answer = await t.request(
      'mutation ($config: JSON!) { connectApp(input: { provider: "google", name: "g", config: $config }) { id } }',
      { config: { serviceAccountKey: secrets[3], adminEmail: 'admin@example.com' } },
    );
    const event = await newest('connectApp');
    expect(event.result).toBe(resultOf(answer));
    expect((event.input.input as { config: Record<string, unknown> }).config.serviceAccountKey).toBe(REDACTED);
  });

  it('records a mutation the gateway refuses before any subgraph runs it, keeping only its shape', async () => {
    const answer = await t.request(
      `mutation Refused { connectApp(input: { provider: "google", name: 5, config: { serviceAccountKey: "SECRET-inline-literal-3b2a1c", n: 1 } }) { id } }`,
    );
    expect(resultOf(answer)).toBe('BAD_USER_INPUT');
    const event = await waitFor('the refused connectApp', async () =>
      (await audit({ action: 'connectApp' })).edges.map((e) => e.node).find((n) => n.service === 'gateway'),
    );
    expect(event).toMatchObject({ subject: 'dev-admin', result: 'BAD_USER_INPUT' });
    expect(event.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(event.input).toEqual({ input: { provider: REDACTED, name: 5, config: { serviceAccountKey: REDACTED, n: 1 } } });
  });

  it('records an instance updated with new credentials', async () => {
    const answer = await t.request(
      'mutation ($id: ID!, $config: JSON) { updateAppInstance(id: $id, input: { name: "renamed", config: $config }) { id } }',
      {
        id: instanceId,
        config: { endpoint: 'http://127.0.0.1:9/api', token: secrets[2] },
      },
    );
    const event = await newest('updateAppInstance');
    expect(event.result).toBe(resultOf(answer));
    expect(event.input).toMatchObject({ id: instanceId, input: { name: 'renamed', config: { token: REDACTED } } });
  });

  it('records policies, alert sinks (their secrets and webhook paths kept out) and refusals by role', async () => {
    await t.query(
      `mutation { createPolicy(input: { name: "sign-ins", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
    );
    expect(await newest('createPolicy')).toMatchObject({ service: 'activities', result: 'OK', input: { input: { name: 'sign-ins' } } });

    const { createAlertSink } = await t.query<{ createAlertSink: { sink: { id: string }; secret: string } }>(
      'mutation ($input: AlertSinkInput!) { createAlertSink(input: $input) { sink { id } secret } }',
      { input: { name: 'siem', url: `http://127.0.0.1:9/services/T0/${secrets[4]}?sig=${secrets[5]}`, enabled: false } },
    );
    secrets.push(createAlertSink.secret);
    const sinkEvent = await newest('createAlertSink');
    expect(sinkEvent.result).toBe('OK');
    expect((sinkEvent.input.input as { url: string }).url).toBe(`http://127.0.0.1:9/${REDACTED}`);
    const { rotateAlertSinkSecret } = await t.query<{ rotateAlertSinkSecret: { secret: string } }>(
      'mutation ($id: ID!) { rotateAlertSinkSecret(id: $id) { secret } }',
      { id: createAlertSink.sink.id },
    );
    secrets.push(rotateAlertSinkSecret.secret);
    expect(await newest('rotateAlertSinkSecret')).toMatchObject({ result: 'OK', input: { id: createAlertSink.sink.id } });

    const refused = await t.request(
      `mutation { createPolicy(input: { name: "x", kind: ACTIVITY, severity: LOW, condition: { action: "x" } }) { id } }`,
      {},
      t.token('viewer'),
    );
    expect(resultOf(refused)).toBe('FORBIDDEN');
    expect((await audit({ action: 'createPolicy', result: 'FORBIDDEN' })).edges.map((e) => e.node)).toEqual([
      expect.objectContaining({ subject: 'dev-viewer', role: 'viewer', result: 'FORBIDDEN' }),
    ]);
  });

  it('records governance and detection triage, with the result the caller got', async () => {
    const accounts = await t.fixtures.accounts(instanceId, [
      { externalId: 'u1', email: 'u1@example.com', displayName: 'U1', status: AccountStatus.ACTIVE, isAdmin: false },
    ]);
    const accountId = [...accounts.values()][0]!;
    const governed = await t.request('mutation ($input: GovernanceInput!) { suspendAccount(input: $input) { id } }', {
      input: { targetId: accountId, reason: 'audit test' },
    });
    const governance = await newest('suspendAccount');
    expect(governance).toMatchObject({
      service: 'accounts',
      result: resultOf(governed),
      input: { input: { targetId: accountId, reason: 'audit test' } },
    });

    const policyId = await t.fixtures.policy({ name: 'p', kind: PolicyKind.ACTIVITY, severity: Severity.LOW, condition: { action: 'x' } });
    const detectionId = await t.fixtures.detection({ policyId, severity: Severity.LOW, title: 'd', description: 'd', instanceId });
    await t.query('mutation ($id: ID!) { setDetectionStatus(id: $id, status: DISMISSED, comment: "benign") { id } }', { id: detectionId });
    expect(await newest('setDetectionStatus')).toMatchObject({
      service: 'activities',
      result: 'OK',
      input: { id: detectionId, status: 'DISMISSED', comment: 'benign' },
    });
  });

  it('records refused authentications over HTTP and websocket, without the tokens', async () => {
    const forged = await new SignJWT({ roles: ['admin'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('intruder')
      .setExpirationTime('1h')
      .sign(new TextEncoder().encode('not-the-secret-not-the-secret-not-the-secret'));
    secrets.push(forged);
    expect(resultOf(await t.request('{ connectorTypes { id } }', {}, forged))).toBe('UNAUTHENTICATED');
    expect(resultOf(await t.request('{ connectorTypes { id } }', {}, 'not-a-jwt'))).toBe('UNAUTHENTICATED');
    const socket = new WebSocket(t.url.replace(/^http/, 'ws'), 'graphql-transport-ws');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    socket.once('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${forged}` } })));
    expect(await closed).toBe(4403);

    const refusals = await waitFor('a refused authentication', async () => (await audit({ kind: 'AUTHENTICATION' })).edges[0]?.node);
    expect(refusals).toMatchObject({
      action: 'authenticate',
      service: 'gateway',
      subject: null,
      result: 'UNAUTHENTICATED',
      occurrences: 1,
    });
    expect(refusals.clientAddress).toMatch(/127\.0\.0\.1/);
    expect(refusals.input).toMatchObject({ channel: 'http' });
  });

  it('records the gateway’s client address, not one the client claims, and the request id; a subgraph believes the address only with the shared secret', async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${t.token('admin')}`,
        [CLIENT_ADDRESS_HEADER]: '203.0.113.9',
        'x-request-id': 'audit-request-0001',
      },
      body: JSON.stringify({ query: 'mutation { deleteAlertSink(id: "00000000-0000-4000-8000-000000000000") }' }),
    });
    expect(response.status).toBe(200);
    expect(await newest('deleteAlertSink')).toMatchObject({
      clientAddress: expect.stringMatching(/127\.0\.0\.1/),
      requestId: 'audit-request-0001',
    });

    const direct = await fetch(t.stack.subgraphs.activities!.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${t.token('admin')}`,
        [GATEWAY_SECRET_HEADER]: GATEWAY_SECRET,
        [CLIENT_ADDRESS_HEADER]: '198.51.100.7',
      },
      body: JSON.stringify({ query: 'mutation Direct { deleteAlertSink(id: "00000000-0000-4000-8000-000000000001") }' }),
    });
    expect(direct.status).toBe(200);
    const event = await waitFor('the direct deleteAlertSink', async () =>
      (await audit({ action: 'deleteAlertSink' })).edges.map((e) => e.node).find((n) => n.clientAddress === '198.51.100.7'),
    );
    expect(event.input).toEqual({ id: '00000000-0000-4000-8000-000000000001' });
  });

  it("refuses a mutation over a subgraph's websocket, where it would not be recorded", async () => {
    const client = connect(t.stack.subgraphs.activities!.url, null, {
      connectionParams: { authorization: `Bearer ${t.token('admin')}`, [GATEWAY_SECRET_PARAM]: GATEWAY_SECRET },
    });
    const answer = await new Promise<unknown>((resolve) => {
      client.subscribe(
        { query: 'mutation { deleteAlertSink(id: "00000000-0000-4000-8000-000000000002") }' },
        { next: resolve, error: resolve, complete: () => resolve('completed') },
      );
    });
    expect(JSON.stringify(answer)).toContain('Mutations are not answered over the websocket');
  });

  it('is filtered and keyset paginated, newest first', async () => {
    const all = await audit({ kind: 'MUTATION' }, 500);
    expect(all.totalCount).toBe(all.edges.length);
    expect(all.totalCount).toBeGreaterThanOrEqual(10);
    const ids = all.edges.map((e) => Number(e.node.id));
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    const pages: number[] = [];
    let after: string | undefined;
    for (let i = 0; i < 100; i += 1) {
      const page = await audit({ kind: 'MUTATION' }, 3, after);
      pages.push(...page.edges.map((e) => Number(e.node.id)));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor!;
    }
    expect(pages).toEqual(ids);
    const viewer = await audit({ subject: 'dev-viewer' });
    expect(viewer.edges.every((e) => e.node.subject === 'dev-viewer')).toBe(true);
    expect(viewer.totalCount).toBe(1);
    const future = await audit({ from: new Date(Date.now() + 3_600_000).toISOString() });
    expect(future.totalCount).toBe(0);
    const bad = await t.request(AUDIT_QUERY, { filter: { action: '' } });
    expect(bad.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(bad.errors?.[0]?.message).toContain('filter.action');
  });

  it('is refused to a viewer and to an admin limited to some instances', async () => {
    const viewer = await t.request(AUDIT_QUERY, {}, t.token('viewer'));
    expect(resultOf(viewer)).toBe('FORBIDDEN');
    const scoped = await signToken(t.config, { role: 'admin', subject: 'scoped-admin', instances: [instanceId] });
    const answer = await t.request(AUDIT_QUERY, {}, scoped);
    expect(resultOf(answer)).toBe('FORBIDDEN');
    expect(answer.errors?.[0]?.message).toContain('The audit log concerns every instance');
  });

  it('holds none of the secrets given or answered, anywhere in the table', async () => {
    const rows: { row: string }[] = await knex()
      .raw('select t::text as row from audit.audit_event t')
      .then((r: { rows: { row: string }[] }) => r.rows);
    expect(rows.length).toBeGreaterThanOrEqual(12);
    const text = rows.map((r) => r.row).join('\n');
    for (const secret of secrets) expect(text, `a secret landed in the audit log: ${secret.slice(0, 12)}…`).not.toContain(secret);
    expect(text).toContain(REDACTED);
  });

  it('refuses updates, truncation and deleting young entries', async () => {
    await expect(knex().raw(`update audit.audit_event set result = 'OK'`)).rejects.toThrow(/append-only/);
    await expect(knex().raw('delete from audit.audit_event')).rejects.toThrow(/append-only/);
    await expect(knex().raw('truncate audit.audit_event')).rejects.toThrow(/append-only/);
  });

  it('prunes entries past the retention in bounded batches, on its timer', async () => {
    const log = new AuditLog(knex());
    const old = (days: number) => ({
      at: new Date(Date.now() - days * 86_400_000),
      kind: 'MUTATION' as never,
      action: 'old',
      service: 'test',
      subject: 'old-admin',
      role: 'admin',
      instances: null,
      operationName: null,
      input: {},
      result: 'OK',
      clientAddress: null,
      requestId: null,
      occurrences: 1,
    });
    await log.append([old(400), old(399), old(398), old(397), old(396), old(10)]);
    const kept = (await audit({}, 0)).totalCount;
    expect(await log.prune(new Date(Date.now() - 30 * 86_400_000), 2)).toBe(5);
    expect((await audit({ action: 'old' })).totalCount).toBe(1);

    await log.append([old(500), old(501)]);
    const retention = startAuditRetention({ log, retentionDays: 30, everyMs: 50 });
    try {
      await waitFor(
        'the retention timer to prune',
        async () => ((await audit({ action: 'old' })).totalCount === 1 ? true : undefined),
        10_000,
      );
    } finally {
      await retention.stop();
    }
    expect((await audit({}, 0)).totalCount).toBe(kept - 5);
  });

  it('writes the first refusal per address and window at once, the rest as one count when the window ends', async () => {
    const recorder = recordRefusals(new AuditLog(knex()), { windowMs: 300, service: 'window-test' });
    const rowsOf = async () =>
      (await knex()
        .withSchema('audit')
        .from('audit_event')
        .where('service', 'window-test')
        .orderBy('id')
        .select('client_address', 'occurrences')) as {
        client_address: string;
        occurrences: number;
      }[];
    try {
      // Start right after a window begins, so that the notes below all fall in one window.
      await waitFor('a window to begin', async () => (Date.now() % 300 < 30 ? true : undefined), 5_000, 5);
      for (let i = 0; i < 5; i += 1) recorder.note('192.0.2.1', 'http', 'UNAUTHENTICATED', 'Token expired');
      for (let i = 0; i < MAX_ADDRESSES_PER_WINDOW + 10; i += 1) recorder.note(`198.51.100.${i}`, 'websocket', 'UNAUTHENTICATED', 'x');
      const summed = await waitFor(
        'the window to end and its counts to be written',
        async () => {
          const rows = await rowsOf();
          const total = rows.reduce((n, r) => n + r.occurrences, 0);
          return total === 5 + MAX_ADDRESSES_PER_WINDOW + 10 ? rows : undefined;
        },
        10_000,
      );
      // One entry per address (the first of the flood's own address counted with its 4 followers),
      // the addresses past the bound together.
      expect(summed.filter((r) => r.client_address === '192.0.2.1').map((r) => r.occurrences)).toEqual([1, 4]);
      expect(summed.filter((r) => r.client_address === OTHER_ADDRESSES).reduce((n, r) => n + r.occurrences, 0)).toBe(11);
      expect(summed.length).toBeLessThanOrEqual(MAX_ADDRESSES_PER_WINDOW + 3);
    } finally {
      await recorder.close();
    }
  });

  it('counts a flood of refusals from one address in a bounded number of entries', async () => {
    const before = await audit({ kind: 'AUTHENTICATION' });
    for (let i = 0; i < 30; i += 1) expect(resultOf(await t.request('{ connectorTypes { id } }', {}, `bad-${i}`))).toBe('UNAUTHENTICATED');
    // Within one minute one entry per address is written at once; the rest are counted and written
    // when the minute ends or the gateway stops (a minute may end during the flood: then two more).
    const during = await audit({ kind: 'AUTHENTICATION' });
    expect(during.totalCount - before.totalCount).toBeLessThanOrEqual(2);
    await t.stack.gateway.stop();
    const rows: { occurrences: number }[] = await knex()
      .withSchema('audit')
      .from('audit_event')
      .where({ action: 'authenticate', service: 'gateway' })
      .select('occurrences');
    // 30 here, 2 over HTTP and 1 over the websocket earlier.
    expect(rows.reduce((n, r) => n + r.occurrences, 0)).toBe(30 + 3);
    expect(rows.length).toBeLessThanOrEqual(6);
  });
});
