import { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditModule } from '../platform/audit/module.js';
import { schedulerModule } from '../scheduler/module.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { openDatabase } from '../platform/database.js';
import { freshDatabase } from './harness.js';

let database: Awaited<ReturnType<typeof freshDatabase>>;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(() => database?.drop());

describe('committed migrations', () => {
  const modules = [
    ...SUBGRAPHS.map((s) => [s.name, s.module] as const),
    ['scheduler', schedulerModule] as const,
    ['audit', auditModule] as const,
  ];
  it.each(modules)('create exactly the tables the %s entities describe', async (_name, module) => {
    const subgraph = { module };
    const db = await openDatabase({ ...subgraph.module, url: database.url });
    await db.close();
    const orm = await MikroORM.init({
      clientUrl: database.url,
      schema: subgraph.module.schema,
      entities: [...subgraph.module.entities],
      discovery: { warnWhenNoEntities: false },
    });
    try {
      const diff = await orm.schema.getUpdateSchemaSQL({ wrap: false, schema: subgraph.module.schema });
      expect(diff.trim()).toBe('');
    } finally {
      await orm.close(true);
    }
  });
});
