import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type TestStack } from './harness.js';

/**
 * A slow or locked database gives clear errors, not hung requests: each subgraph connection carries
 * DB_STATEMENT_TIMEOUT_MS and DB_LOCK_TIMEOUT_MS, and a statement cancelled by either answers
 * DATABASE_TIMEOUT in plain words; once the lock is gone, the same request succeeds.
 */

let t: TestStack;
let db: pg.Client;

beforeAll(async () => {
  t = await startTestStack({ DB_STATEMENT_TIMEOUT_MS: '4000', DB_LOCK_TIMEOUT_MS: '300' });
  db = new pg.Client({ connectionString: t.stack.databaseUrl });
  await db.connect();
}, 60_000);

afterAll(async () => {
  await db?.end();
  await t?.stop();
});

describe('database timeouts', () => {
  it('are set on every subgraph connection', async () => {
    for (const subgraph of Object.values(t.stack.subgraphs)) {
      const knex = subgraph.db.knex();
      const { rows } = (await knex.raw('select current_setting(?) as statement, current_setting(?) as lock', [
        'statement_timeout',
        'lock_timeout',
      ])) as { rows: { statement: string; lock: string }[] };
      expect(rows[0], subgraph.name).toEqual({ statement: '4s', lock: '300ms' });
    }
  });

  it('answer DATABASE_TIMEOUT when a row stays locked, and the request succeeds once it is free', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      'mutation { connectApp(input: { provider: "simulated", name: "locked", config: { endpoint: "http://127.0.0.1:9/api", token: "t" } }) { id } }',
    );
    const rename = () =>
      t.request<{ updateAppInstance: { name: string } }>(
        `mutation { updateAppInstance(id: "${connectApp.id}", input: { name: "renamed" }) { name } }`,
      );
    await db.query('begin');
    try {
      await db.query('select id from accounts.app_instance where id = $1 for update', [connectApp.id]);
      const started = Date.now();
      const answer = await rename();
      expect(answer.errors?.[0]).toMatchObject({
        message: expect.stringContaining('DB_LOCK_TIMEOUT_MS'),
        extensions: { code: 'DATABASE_TIMEOUT' },
      });
      expect(JSON.stringify(answer)).not.toMatch(/stack|at .*\.ts:/);
      // Cancelled by the lock timeout, not by the statement timeout.
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await db.query('rollback');
    }
    const again = await rename();
    expect(again.errors).toBeUndefined();
    expect(again.data?.updateAppInstance.name).toBe('renamed');
  });
});
