import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, type EntityManager, type Knex } from '@mikro-orm/postgresql';
import type { Constructor, EntityClass, EntityDictionary, MigrationObject } from '@mikro-orm/core';
import type { Migration } from '@mikro-orm/migrations';
import pg from 'pg';
import { logger } from './logger.js';

/** What a subgraph (or the scheduler, for a subgraph's service) needs to open its schema. */
export interface DatabaseOptions {
  /** The PostgreSQL schema this module owns, e.g. `accounts`. */
  readonly schema: string;
  readonly entities: readonly EntityClass<unknown>[];
  /** Committed migrations, oldest first (explicit list: no file globbing). */
  readonly migrations: readonly (MigrationObject | Constructor<Migration>)[];
  readonly url: string;
  readonly poolMax?: number;
  /**
   * Set on every pooled connection: a statement running longer than `statementMs`, or waiting longer
   * than `lockMs` for a lock, is cancelled with an error (SQLSTATE 57014, 55P03) instead of holding a
   * request. Absent: PostgreSQL's own settings (none).
   */
  readonly timeouts?: { readonly statementMs: number; readonly lockMs: number };
}

/** An open database for one module: its ORM, a counter of SQL statements sent, and close(). */
export interface Database {
  readonly orm: MikroORM;
  readonly schema: string;
  /** How many SQL statements this module has sent since it opened (for N+1 tests). */
  sqlStatements(): number;
  /** A fresh EntityManager: one per request or job. */
  fork(): EntityManager;
  knex(): Knex;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Opens the module's schema and applies its committed migrations. Concurrent starts of the same
 * module (several replicas) are serialized by a PostgreSQL advisory lock. Throws when the database
 * is unreachable or a migration fails; nothing is left open then.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  await migrateDatabase(options);
  const orm = await MikroORM.init({
    clientUrl: options.url,
    schema: options.schema,
    entities: [...options.entities],
    discovery: { warnWhenNoEntities: false },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    pool: { min: 0, max: options.poolMax ?? 10, ...(options.timeouts ? { afterCreate: withTimeouts(options.timeouts) } : {}) },
    logger: (message) => logger.debug({ schema: options.schema }, message),
    // knex's own warnings (a pooled connection found broken after the server restarted...) as log lines, not console output.
    driverOptions: { log: knexLog(options.schema) },
  });
  let statements = 0;
  const knex = orm.em.getKnex();
  knex.on('query', () => {
    statements += 1;
  });
  return {
    orm,
    schema: options.schema,
    sqlStatements: () => statements,
    fork: () => orm.em.fork(),
    knex: () => knex,
    ping: async () => {
      await knex.raw('select 1');
    },
    close: () => orm.close(true),
  };
}

/**
/**
 * Applies the module's committed migrations under its advisory lock (what {@link openDatabase} does
 * first), for a process that writes the module's tables through another connection.
 */
export async function migrateDatabase(options: DatabaseOptions): Promise<void> {
  await migrate(options);
}

/**
 * Applies the module's committed migrations (up to and including `to` when given), serialized with
 * other starts of the module by an advisory lock. Answers the names of the migrations applied.
 */
export async function migrate(options: DatabaseOptions, to?: string): Promise<string[]> {
  const lock = new pg.Client({ connectionString: options.url });
  await lock.connect();
  const orm = await MikroORM.init({
    clientUrl: options.url,
    schema: options.schema,
    entities: [...options.entities],
    discovery: { warnWhenNoEntities: false },
    extensions: [Migrator],
    migrations: {
      tableName: 'mikro_orm_migrations',
      migrationsList: [...options.migrations],
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      silent: true,
    },
    pool: { min: 0, max: 1 },
    logger: (message) => logger.debug({ schema: options.schema }, message),
  });
  try {
    await lock.query('select pg_advisory_lock(hashtext($1))', [`tenantwatch:migrate:${options.schema}`]);
    await lock.query(`create schema if not exists "${options.schema}"`);
    const applied = await orm.getMigrator().up(to === undefined ? undefined : { to });
    if (applied.length > 0) logger.info({ schema: options.schema, migrations: applied.map((m) => m.name) }, 'migrations applied');
    return applied.map((m) => m.name);
  } finally {
    await orm.close(true);
    await lock.end();
  }
}

/** knex's `log` option: its messages through the one logger. */
function knexLog(schema: string) {
  return {
    warn: (message: unknown) => logger.warn({ schema, knex: String(message) }, 'database client warning'),
    error: (message: unknown) => logger.error({ schema, knex: String(message) }, 'database client error'),
    deprecate: (method: unknown, alternative: unknown) => logger.debug({ schema, method, alternative }, 'database client deprecation'),
    debug: (message: unknown) => logger.debug({ schema, knex: message }, 'database client'),
  };
}

/** A knex pool hook that sets the session's statement and lock timeouts on each new connection. */
function withTimeouts({ statementMs, lockMs }: { statementMs: number; lockMs: number }) {
  return (connection: pg.Client, done: (error: Error | null, connection: pg.Client) => void) => {
    connection.query(`set statement_timeout = ${Math.trunc(statementMs)}; set lock_timeout = ${Math.trunc(lockMs)}`, (error) =>
      done(error, connection),
    );
  };
}

/** A row as the driver returns it: column names to values. */
export type DbRow = Record<string, unknown>;

/** Hydrates raw rows (snake_case columns) into entities of `entity`. */
export function mapRows<T extends object>(em: EntityManager, entity: EntityClass<T>, rows: readonly DbRow[]): T[] {
  return rows.map((row) => em.map(entity, row as EntityDictionary<T>));
}

/** Hydrates one raw row into an entity of `entity`. */
export function mapRow<T extends object>(em: EntityManager, entity: EntityClass<T>, row: DbRow): T {
  return em.map(entity, row as EntityDictionary<T>);
}

/**
 * What {@link rowReader} copies per entity class (the same for every module's ORM): column, property,
 * conversion; and the prototype of what it reads.
 */
const readers = new WeakMap<
  object,
  {
    readonly fields: readonly (readonly [column: string, property: string, convert: ((value: unknown) => unknown) | null])[];
    readonly prototype: object;
  }
>();

/**
 * A reader of raw rows into read-only instances of `entity`, for rows that are served, never
 * changed through the ORM (the provider mirrors: their writes go through SQL). Each column goes to
 * its property on an object of the entity's prototype, converted as the ORM converts it (its type's
 * `convertToJSValue`; timestamps through the platform's date parser), without the ORM's identity map,
 * change tracking and reference propagation, which cost a tenth of a subgraph's CPU on a page of
 * nested lists. `test/row-reader.e2e.test.ts` checks that it answers what `em.map` does for every
 * entity here.
 *
 * The objects' prototype is one of the reader's own, between them and the entity's: it holds a plain
 * writable property of each name, so that setting a property on an object makes it the object's own.
 * The entity's prototype has the ORM's setters under those names, which on every first write
 * define a getter and a setter on the object itself and give it the ORM's per-entity helper: about
 * 6 % of the process's CPU, besides the garbage, on bench:gateway's distinct pages.
 */
export function rowReader<T extends object>(em: EntityManager, entity: EntityClass<T>): (row: DbRow) => T {
  let reader = readers.get(entity);
  if (!reader) {
    const meta = em.getMetadata().get<T>(entity.name);
    const platform = em.getPlatform();
    const fields = meta.props
      .filter((prop) => prop.persist !== false && prop.fieldNames?.length === 1)
      .map((prop) => {
        const type = prop.customType;
        const convert =
          prop.runtimeType === 'Date'
            ? (value: unknown) =>
                value === null || value === undefined || value instanceof Date ? value : platform.parseDate(value as string)
            : type
              ? (value: unknown) => (value === null || value === undefined ? value : type.convertToJSValue(value, platform))
              : null;
        return [prop.fieldNames[0]!, prop.name, convert] as const;
      });
    const own: PropertyDescriptorMap = {};
    for (const [, property] of fields) own[property] = { value: undefined, writable: true, enumerable: false, configurable: true };
    reader = { fields, prototype: Object.create(entity.prototype as object, own) as object };
    readers.set(entity, reader);
  }
  const { fields: columns, prototype } = reader;
  return (row) => {
    const read = Object.create(prototype) as Record<string, unknown>;
    for (const [column, property, convert] of columns) {
      if (!(column in row)) continue;
      read[property] = convert ? convert(row[column]) : row[column];
    }
    return read as T;
  };
}
