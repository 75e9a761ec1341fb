import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import pg from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { migrate, type DatabaseOptions } from './database.js';
import { logger } from './logger.js';

/**
 * Backup and restore of Tenantwatch's data, without `pg_dump` (the embedded PostgreSQL ships none, and
 * a client older than the server cannot dump it): every table of every module's schema is copied out
 * with COPY in one REPEATABLE READ READ ONLY transaction (one consistent snapshot, taken while
 * Tenantwatch runs), into a gzip file that names the migrations each schema was at. A restore brings
 * an empty database (or one it is told to replace) to those migrations, loads the rows in foreign-key
 * order, sets the sequences past their rows, then applies the migrations made since.
 *
 * Not in a backup: the job store (Agenda's table, or MongoDB). A scheduler that starts makes every
 * connected instance's periodic jobs again and dispatches the governance actions still to do.
 */

/** A module whose schema is backed up: its name and migrations (as it opens its database). */
export type BackupModule = Omit<DatabaseOptions, 'url'>;

const MAGIC = 'TENANTWATCH BACKUP 1';
/** The migrations table is the module's own bookkeeping: restored by applying the migrations, not copied. */
const MIGRATIONS_TABLE = 'mikro_orm_migrations';

export interface BackupTable {
  readonly schema: string;
  readonly name: string;
  /** The columns copied (generated columns are computed again on restore). */
  readonly columns: readonly string[];
  readonly rows: number;
}

export interface BackupManifest {
  readonly createdAt: string;
  readonly postgres: string;
  /** Per schema: the migrations applied when the backup was taken, oldest first. */
  readonly migrations: Readonly<Record<string, readonly string[]>>;
  /** In load order (a table after those its foreign keys point at). */
  readonly tables: readonly BackupTable[];
}

/** A backup that cannot be restored here, or a database that cannot take it; the message says why. */
export class BackupError extends Error {
  override readonly name = 'BackupError';
}

const quote = (identifier: string) => `"${identifier.replace(/"/g, '""')}"`;
const qualified = (t: { schema: string; name: string }) => `${quote(t.schema)}.${quote(t.name)}`;

/** The modules' tables (migrations table excluded) with their copied columns, in foreign-key order. */
async function tablesOf(client: pg.ClientBase, schemas: readonly string[]): Promise<{ schema: string; name: string; columns: string[] }[]> {
  const { rows } = await client.query<{ schema: string; name: string; columns: string[] }>(
    `select n.nspname as schema, c.relname as name,
            array_agg(a.attname::text order by a.attnum) as columns
       from pg_class c
       join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
      where c.relkind in ('r', 'p') and n.nspname = any($1) and c.relname <> $2 and not c.relispartition
      group by n.nspname, c.relname
      order by n.nspname, c.relname`,
    [schemas, MIGRATIONS_TABLE],
  );
  const { rows: references } = await client.query<{ from: string; to: string }>(
    `select fn.nspname || '.' || f.relname as from, tn.nspname || '.' || t.relname as to
       from pg_constraint k
       join pg_class f on f.oid = k.conrelid join pg_namespace fn on fn.oid = f.relnamespace
       join pg_class t on t.oid = k.confrelid join pg_namespace tn on tn.oid = t.relnamespace
      where k.contype = 'f' and fn.nspname = any($1) and k.conrelid <> k.confrelid`,
    [schemas],
  );
  // Depth-first: every table after the tables it references.
  const byKey = new Map(rows.map((r) => [`${r.schema}.${r.name}`, r]));
  const ordered: typeof rows = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string) => {
    if (state.get(key) === 'done' || !byKey.has(key)) return;
    if (state.get(key) === 'visiting') throw new BackupError(`foreign keys form a cycle through ${key}`);
    state.set(key, 'visiting');
    for (const r of references) if (r.from === key) visit(r.to);
    state.set(key, 'done');
    ordered.push(byKey.get(key)!);
  };
  for (const key of byKey.keys()) visit(key);
  return ordered;
}

async function appliedMigrations(client: pg.ClientBase, schema: string): Promise<string[]> {
  const { rows: exists } = await client.query('select 1 from pg_tables where schemaname = $1 and tablename = $2', [
    schema,
    MIGRATIONS_TABLE,
  ]);
  if (exists.length === 0) return [];
  const { rows } = await client.query<{ name: string }>(`select name from ${quote(schema)}.${MIGRATIONS_TABLE} order by id`);
  return rows.map((r) => r.name);
}

/**
 * Writes a backup of the modules' schemas at `databaseUrl` to `out` (gzip). Answers its manifest.
 * Runs beside a live Tenantwatch: one snapshot, no locks beyond COPY's.
 */
export async function backupDatabase(databaseUrl: string, modules: readonly BackupModule[], out: Writable): Promise<BackupManifest> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const schemas = modules.map((m) => m.schema);
    const tables = await tablesOf(client, schemas);
    const counted: BackupTable[] = [];
    for (const table of tables) {
      const { rows } = await client.query<{ n: string }>(`select count(*) as n from ${qualified(table)}`);
      counted.push({ ...table, rows: Number(rows[0]!.n) });
    }
    const migrations: Record<string, string[]> = {};
    for (const schema of schemas) migrations[schema] = await appliedMigrations(client, schema);
    const { rows: version } = await client.query<{ server_version: string }>('show server_version');
    const manifest: BackupManifest = {
      createdAt: new Date().toISOString(),
      postgres: version[0]!.server_version,
      migrations,
      tables: counted,
    };
    const gzip = createGzip();
    const written = pipeline(gzip, out);
    const write = (chunk: string | Buffer) =>
      gzip.write(chunk) ? Promise.resolve() : new Promise<void>((resolve) => gzip.once('drain', () => resolve()));
    await write(`${MAGIC}\n${JSON.stringify(manifest)}\n`);
    for (const table of counted) {
      // COPY's text format: a data line never is `\.` (a backslash in a value is doubled), so it ends each table.
      const stream = client.query(copyTo(`copy ${qualified(table)} (${table.columns.map(quote).join(', ')}) to stdout`));
      for await (const chunk of stream) await write(chunk as Buffer);
      await write('\\.\n');
    }
    gzip.end();
    await written;
    await client.query('commit');
    logger.info({ tables: counted.length, rows: counted.reduce((n, t) => n + t.rows, 0) }, 'backup written');
    return manifest;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

/** Splits a byte stream into lines (without their `\n`). */
async function* lines(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest = Buffer.alloc(0);
  for await (const chunk of input) {
    let buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let at = buffer.indexOf(10);
    while (at >= 0) {
      yield buffer.subarray(0, at);
      buffer = buffer.subarray(at + 1);
      at = buffer.indexOf(10);
    }
    rest = Buffer.from(buffer);
  }
  if (rest.length > 0) yield rest;
}

export interface RestoreOptions {
  /** Drop the modules' schemas that hold data first (otherwise a database with data is refused). */
  readonly replace?: boolean;
}

/**
 * Restores a backup into the database at `databaseUrl` (`open` gives the file's bytes; it is read twice:
 * checked through, then loaded): its schemas are brought to the backup's migrations, emptied, loaded
 * table by table (in one transaction) and migrated to this version's latest. Refuses (BackupError,
 * nothing changed) a file that is not a backup, is damaged or truncated, a backup made
 * by a newer Tenantwatch (migrations this one does not have), and a database holding data unless
 * `replace` is set. Answers the manifest.
 */
export async function restoreDatabase(
  databaseUrl: string,
  modules: readonly BackupModule[],
  open: () => Readable,
  options: RestoreOptions = {},
): Promise<BackupManifest> {
  // Read through once before anything changes: a damaged or truncated file is refused with the database untouched.
  await readBackup(open(), async (_table, rows) => {
    for await (const _row of rows);
  });
  let manifest!: BackupManifest;
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await readBackup(open(), async (table, rows, read) => {
      if (table === null) {
        manifest = read;
        await prepare(client, databaseUrl, modules, manifest, options);
        return;
      }
      const sink = client.query(copyFrom(`copy ${qualified(table)} (${table.columns.map(quote).join(', ')}) from stdin`));
      await pipeline(Readable.from(rows), sink);
    });
    await setSequences(
      client,
      modules.map((m) => m.schema),
    );
    await client.query('commit');
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
  // Then the migrations made since the backup.
  for (const module of modules) await migrate({ ...module, url: databaseUrl });
  logger.info({ tables: manifest.tables.length, rows: manifest.tables.reduce((n, t) => n + t.rows, 0) }, 'backup restored');
  return manifest;
}

/**
 * Reads a backup: `each(null, empty, manifest)` once the manifest is read, then `each(table, rows)` per
 * table, whose rows (COPY text lines, each with its `\n`) must be consumed before the next. Throws
 * BackupError for a file that is not a backup, is damaged or truncated, or whose row counts differ
 * from its manifest's.
 */
async function readBackup(
  input: Readable,
  each: (table: BackupTable | null, rows: AsyncIterable<Buffer>, manifest: BackupManifest) => Promise<void>,
): Promise<void> {
  const source = lines(input.pipe(createGunzip()));
  const next = async (what: string) => {
    let line: IteratorResult<Buffer>;
    try {
      line = await source.next();
    } catch (error) {
      throw new BackupError(`the backup file is damaged (${(error as Error).message}) before ${what}`);
    }
    if (line.done) throw new BackupError(`the backup ends before ${what}: the file is truncated`);
    return line.value;
  };
  let manifest: BackupManifest;
  try {
    if ((await next('its header')).toString('utf8') !== MAGIC)
      throw new BackupError('not a Tenantwatch backup (its first line is not the header)');
    manifest = JSON.parse((await next('its manifest')).toString('utf8')) as BackupManifest;
  } catch (error) {
    if (error instanceof BackupError) throw error;
    throw new BackupError(`not a Tenantwatch backup: ${(error as Error).message}`);
  }
  await each(null, Readable.from([]), manifest);
  for (const table of manifest.tables) {
    let count = 0;
    const rows = async function* () {
      for (;;) {
        const line = await next(`the end of table ${table.schema}.${table.name}`);
        if (line.length === 2 && line[0] === 92 && line[1] === 46) return; // `\.`
        count += 1;
        yield Buffer.concat([line, NEWLINE]);
      }
    };
    await each(table, rows(), manifest);
    if (count !== table.rows)
      throw new BackupError(`table ${table.schema}.${table.name} holds ${count} rows in the backup, its manifest says ${table.rows}`);
  }
  if (!(await source.next()).done) throw new BackupError('the backup holds more than its manifest lists');
}

const NEWLINE = Buffer.from('\n');

/**
 * Brings the modules' schemas to the backup's migrations, emptied, and opens the loading transaction.
 * Refuses a backup of a newer Tenantwatch, and a database holding data unless `replace`.
 */
async function prepare(
  client: pg.Client,
  databaseUrl: string,
  modules: readonly BackupModule[],
  manifest: BackupManifest,
  options: RestoreOptions,
): Promise<void> {
  for (const module of modules) {
    const known = module.migrations.map((m) => m.name);
    const unknown = (manifest.migrations[module.schema] ?? []).filter((name) => !known.includes(name));
    if (unknown.length > 0)
      throw new BackupError(
        `the backup was made by a newer Tenantwatch: schema ${module.schema} has migrations this one lacks (${unknown.join(', ')})`,
      );
  }
  const schemas = modules.map((m) => m.schema);
  let holding = 0;
  for (const table of await tablesOf(client, schemas)) {
    const { rows } = await client.query(`select exists (select 1 from ${qualified(table)}) as any`);
    if ((rows[0] as { any: boolean }).any) holding += 1;
  }
  if (holding > 0 && !options.replace)
    throw new BackupError(
      `the database already holds Tenantwatch data (${holding} tables with rows): restore into an empty one, or replace it (--replace)`,
    );
  // Emptied (they hold no data, or are to be replaced), then made again as the backup needs them.
  for (const schema of schemas) await client.query(`drop schema if exists ${quote(schema)} cascade`);
  for (const module of modules) {
    const taken = manifest.migrations[module.schema] ?? [];
    if (taken.length > 0) await migrate({ ...module, url: databaseUrl }, taken.at(-1));
  }
  const tables = await tablesOf(client, schemas);
  for (const table of manifest.tables)
    if (!tables.some((t) => t.schema === table.schema && t.name === table.name))
      throw new BackupError(`table ${table.schema}.${table.name} of the backup does not exist at its migrations`);
  await client.query('begin');
  // Whatever a migration put in its tables gives way to the backup's rows (only tables holding rows:
  // an append-only table refuses TRUNCATE, and a freshly made one is empty).
  const filled: typeof tables = [];
  for (const table of tables) {
    const { rows } = await client.query(`select exists (select 1 from ${qualified(table)}) as any`);
    if ((rows[0] as { any: boolean }).any) filled.push(table);
  }
  if (filled.length > 0) await client.query(`truncate ${filled.map(qualified).join(', ')} cascade`);
}

/** Sequences (serial and identity columns) past the rows loaded. */
async function setSequences(client: pg.Client, schemas: readonly string[]): Promise<void> {
  const { rows: sequences } = await client.query<{ table: string; column: string; sequence: string }>(
    `select quote_ident(n.nspname) || '.' || quote_ident(c.relname) as table, quote_ident(a.attname) as column,
            pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) as sequence
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
       join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
      where c.relkind = 'r' and n.nspname = any($1) and c.relname <> $2
        and pg_get_serial_sequence(quote_ident(n.nspname) || '.' || quote_ident(c.relname), a.attname) is not null`,
    [schemas, MIGRATIONS_TABLE],
  );
  for (const s of sequences)
    await client.query(`select setval($1, coalesce((select max(${s.column}) from ${s.table}), 0) + 1, false)`, [s.sequence]);
}
