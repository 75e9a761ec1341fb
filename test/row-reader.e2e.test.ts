import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapRow, rowReader, type DbRow } from '../platform/database.js';
import { seedDataset } from './fixtures.js';
import { startTestStack, type TestStack } from './harness.js';

/**
 * rowReader (the provider mirrors' reads, without the ORM's tracking) answers what MikroORM's `em.map`
 * does: for every entity of every subgraph, on rows of a seeded dataset, each property the same value
 * of the same type, on an object of the entity's class.
 */

let t: TestStack;

beforeAll(async () => {
  t = await startTestStack();
  await seedDataset(t.fixtures, { accountsPerInstance: 6, perAccount: 3 });
}, 60_000);

afterAll(async () => {
  await t?.stop();
});

describe('rowReader', () => {
  it('reads every entity’s rows as em.map does', async () => {
    let compared = 0;
    for (const [name, subgraph] of Object.entries(t.stack.subgraphs)) {
      const em = subgraph.db.fork();
      for (const meta of Object.values(em.getMetadata().getAll())) {
        if (!meta.class || meta.abstract || meta.embeddable || !meta.tableName) continue;
        const schema = meta.schema ?? em.config.get('schema');
        const table = schema ? `${schema}.${meta.tableName}` : meta.tableName;
        const rows: DbRow[] = await em.getKnex()(table).select('*').limit(200);
        const read = rowReader(em, meta.class);
        for (const row of rows) {
          const mapped = mapRow(em.fork(), meta.class, row) as Record<string, unknown>;
          const light = read(row) as Record<string, unknown>;
          expect(light, `${name} ${meta.className}`).toBeInstanceOf(meta.class);
          for (const prop of meta.props) expect(light[prop.name], `${name} ${meta.className}.${prop.name}`).toEqual(mapped[prop.name]);
          compared += 1;
        }
      }
    }
    // Accounts, groups, files, activities, app permissions and the rest, each with rows.
    expect(compared).toBeGreaterThan(100);
  });
});
