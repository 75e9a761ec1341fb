import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signToken } from '../platform/auth.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { freshDatabase, graphql, startTestStack, testConfig, waitFor, type TestStack } from './harness.js';
import { runCommand } from './processes.js';
import { allNodes, waitConnected } from './truth.js';

/**
 * `npm run backup` and `npm run restore` round-trip a populated stack: scanned accounts, files, grants
 * and activities, detections with their triage history, a governance action carried out. A second
 * stack on the restored database answers exactly as the first; it keeps writing (sequences follow the
 * rows); a database holding data is refused unless replaced, and a damaged file is refused.
 */

let t: TestStack;
let simulator: Simulator;
let restored: { url: string; drop(): Promise<void> } | undefined;
let second: Stack | undefined;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-backup-'));
const file = path.join(dir, 'tenantwatch.backup.gz');

/** Runs the backup CLI as an operator would, against `databaseUrl`. */
const cli = (args: string[], databaseUrl: string) =>
  runCommand(process.execPath, ['--import', '@swc-node/register/esm-register', 'scripts/backup.ts', ...args], {
    DATABASE_URL: databaseUrl,
    DATA_DIR: dir,
    LOG_LEVEL: 'warn',
  });

const STATE = `{
  appInstances { id name status }
  policies { id name }
}`;

/** Everything a client sees, read through `url` with an admin token. */
async function state(url: string, token: string) {
  const ask = async <T>(query: string) => {
    const answer = await graphql<T>(url, token, query);
    expect(answer.errors, JSON.stringify(answer.errors)).toBeUndefined();
    return answer.data!;
  };
  const all = async (field: string, selection: string) => {
    const out: unknown[] = [];
    let after: string | null = null;
    for (;;) {
      const data: Record<string, { edges: { node: unknown }[]; pageInfo: { hasNextPage: boolean; endCursor: string } }> = await ask(
        `{ ${field}(first: 500${after ? `, after: "${after}"` : ''}) { edges { node { ${selection} } } pageInfo { hasNextPage endCursor } } }`,
      );
      out.push(...data[field]!.edges.map((e) => e.node));
      if (!data[field]!.pageInfo.hasNextPage) return out;
      after = data[field]!.pageInfo.endCursor;
    }
  };
  return {
    ...(await ask<Record<string, unknown>>(STATE)),
    accounts: await all('accounts', 'id email status isAdmin groups { id name }'),
    files: await all('files', 'id name sharing sensitiveMatches { type count } owner { id }'),
    appPermissions: await all('appPermissions', 'id appName scopes revoked grantedBy { id }'),
    activities: await all('activities', 'id action occurredAt actor { id }'),
    detections: await all('detections', 'id status statusComment assignee history { change actor toStatus comment }'),
    governanceActions: await all('governanceActions', 'id type status reason account { id status }'),
  };
}

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', BACKFILL_DAYS: '1' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'kept',
        token: 'kept-token-0123456789',
        seed: 11,
        users: 12,
        groups: 2,
        files: 10,
        grants: 6,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 3,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
      },
    ],
  });
  await t.query(
    `mutation { createPolicy(input: { name: "sign-ins", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
  );
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "kept", config: $config }) { id } }`,
    { config: { endpoint: simulator.url, token: 'kept-token-0123456789', rateLimitPerMinute: 6000 } },
  );
  await waitConnected(t, connectApp.id, 90_000);
  const detection = await waitFor('a detection', async () => (await allNodes<{ id: string }>(t, 'detections', '', 'id'))[0]?.id);
  await t.query(`mutation { setDetectionStatus(id: "${detection}", status: DISMISSED, comment: "expected travel") { id } }`);
  const [account] = await allNodes<{ id: string }>(t, 'accounts', 'filter: { status: ACTIVE, isAdmin: false }', 'id');
  const { suspendAccount } = await t.query<{ suspendAccount: { id: string } }>(
    `mutation { suspendAccount(input: { targetId: "${account!.id}", reason: "leaver" }) { id } }`,
  );
  await waitFor('the suspension done', async () => {
    const { governanceAction } = await t.query<{ governanceAction: { status: string } }>(
      `{ governanceAction(id: "${suspendAccount.id}") { status } }`,
    );
    return governanceAction.status === 'SUCCEEDED' ? true : undefined;
  });
}, 150_000);

afterAll(async () => {
  await second?.stop();
  await t?.stop();
  await simulator?.stop();
  await restored?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm run backup / restore', () => {
  it('round-trips a populated stack into a new database, which then keeps working', async () => {
    // The scheduler stops first: nothing changes between the backup and the state compared.
    await t.stack.scheduler!.stop();
    const before = await state(t.url, t.token('admin'));
    expect(before.detections.length).toBeGreaterThan(0);

    const backup = await cli(['backup', '--out', file], t.stack.databaseUrl);
    expect(backup.output).toMatch(/^Backup written to .*tenantwatch\.backup\.gz: \d+ tables, \d+ rows/m);
    expect(backup.code).toBe(0);

    restored = await freshDatabase();
    const restore = await cli(['restore', file], restored.url);
    expect(restore.output).toMatch(/^Restored .* \d+ tables, \d+ rows/m);
    expect(restore.code).toBe(0);

    const config = testConfig(fs.mkdtempSync(path.join(dir, 'second-')));
    second = await startStack({ config, databaseUrl: restored.url, port: 0 });
    const token = await signToken(config, { role: 'admin' });
    expect(await state(second.gateway.url, token)).toEqual(before);

    // Writes go on where the rows left off: a triage records history and an event past the restored ones.
    const detection = (before.detections as { id: string }[])[0]!.id;
    const answer = await graphql<{ setDetectionStatus: { history: { comment: string | null }[] } }>(
      second.gateway.url,
      token,
      `mutation { setDetectionStatus(id: "${detection}", status: RESOLVED, comment: "after restore") { history { comment } } }`,
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data!.setDetectionStatus.history.at(-1)!.comment).toBe('after restore');
  });

  it('refuses a database that holds data unless told to replace it, and a damaged backup', async () => {
    await second?.stop();
    second = undefined;
    const refused = await cli(['restore', file], restored!.url);
    expect(refused.code).toBe(2);
    expect(refused.output).toMatch(/already holds Tenantwatch data .*--replace/);
    const replaced = await cli(['restore', file, '--replace'], restored!.url);
    expect(replaced.code).toBe(0);

    const damaged = path.join(dir, 'damaged.backup.gz');
    const bytes = fs.readFileSync(file);
    fs.writeFileSync(damaged, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const truncated = await cli(['restore', damaged, '--replace'], restored!.url);
    expect(truncated.code).toBe(2);
    expect(truncated.output).toMatch(/damaged|truncated/);
    fs.writeFileSync(damaged, 'not a backup');
    const garbage = await cli(['restore', damaged], restored!.url);
    expect(garbage.code).toBe(2);
  });
});
