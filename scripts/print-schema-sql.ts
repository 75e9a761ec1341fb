// Prints the CREATE statements MikroORM derives from a module's entities: the starting point of a
// new migration (`node --import @swc-node/register/esm-register scripts/print-schema-sql.ts accounts [ClassName]`).
import 'reflect-metadata';
import { MikroORM } from '@mikro-orm/postgresql';
import { SUBGRAPHS } from '../subgraphs/index.js';

const name = process.argv[2] ?? '';
const module = SUBGRAPHS.find((s) => s.name === name)?.module;
if (!module) {
  console.error(`usage: print-schema-sql <${SUBGRAPHS.map((s) => s.name).join('|')}> [MigrationClassName]`);
  process.exit(2);
}
const orm = await MikroORM.init({
  clientUrl: 'postgresql://localhost:1/none',
  schema: module.schema,
  entities: [...module.entities],
  connect: false,
  discovery: { warnWhenNoEntities: false },
});
const sql = await orm.schema.getCreateSchemaSQL({ wrap: false });
const className = process.argv[3];
if (className) {
  // `... accounts Migration20261126000000` prints a migration class instead of plain SQL.
  const statements = sql
    .split(';\n')
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('create schema'));
  const lines = statements.map((s) => `    this.addSql(\`${s.replace(/;$/, '')}\`);`);
  console.log(
    `import { Migration } from '@mikro-orm/migrations';\n\nexport class ${className} extends Migration {\n  override async up(): Promise<void> {\n${lines.join('\n')}\n  }\n}`,
  );
} else {
  console.log(sql);
}
await orm.close(true);
