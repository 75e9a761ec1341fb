// `npm run bench:ingest`: how fast the audit trail is stored. BENCH_ROWS (default 200,000) realistic
// activity records (the simulator's generator, mapped as the connector and the scheduler map them) are
// stored with ActivityService.insertActivities in batches of 500 and of 5,000, a fresh service per
// batch as the activity scan makes one per page; then the same rows in one raw `COPY activities.activity FROM STDIN` and, as a second
// baseline, one `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING`. Same table, same indexes
// (the activities migrations), truncated before every run. BENCH_RUNS (default 2) runs each; the best
// counts. Target (issue): insertActivities ≥ 0.5 of the COPY rate. Exits 1 when a run stores a wrong count.
import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { z } from 'zod';
import type { ActivityRecord } from '../subgraphs/activities/activity.service.js';
import type { EmbeddedPostgres } from '../scripts/embedded-postgres.js';
import type { Database } from '../subgraphs/shared/database.js';

// The logger reads LOG_LEVEL when its module loads, so everything that logs is imported after this.
process.env.LOG_LEVEL = 'silent';
const { startEmbeddedPostgres } = await import('../scripts/embedded-postgres.js');
const { openDatabase } = await import('../subgraphs/shared/database.js');
const { upsertRows } = await import('../subgraphs/shared/bulk.js');
const { newId } = await import('../subgraphs/shared/ids.js');
const { activitiesModule } = await import('../subgraphs/activities/module.js');
const { ActivityService } = await import('../subgraphs/activities/activity.service.js');
const { ActivityCategory } = await import('../subgraphs/activities/activity.entity.js');
const { resolveTenantSpec } = await import('../connectors/simulated/spec.js');
const { generateTenant } = await import('../connectors/simulated/generator.js');
const { wireEvent } = await import('../connectors/simulated/serialize.js');
const { toEvent } = await import('../connectors/simulated/mapping.js');

const TABLE = 'activities.activity';
const SettingsSchema = z.object({
  BENCH_ROWS: z.coerce.number().int().min(1_000).max(5_000_000).default(200_000),
  BENCH_RUNS: z.coerce.number().int().min(1).max(10).default(2),
});

/**
 * Records as the activity scan hands them to insertActivities: the simulator's backfill, through the
 * wire format and the connector's mapping, with actors and files resolved to ids of ours.
 */
function generateRecords(count: number): ActivityRecord[] {
  const perUserPerDay = 13;
  const days = 7;
  // Active users make about 0.95 of all, each about perUserPerDay events a day; 10% spare.
  const users = Math.ceil((count * 1.1) / (days * perUserPerDay * 0.95));
  const spec = resolveTenantSpec({ id: 'ingest', token: 'ingest-token-0', users, groups: 0, grants: 0, files: 500, backfillDays: days, backfillEventsPerUserPerDay: perUserPerDay, auditLagMs: 0 });
  const { events } = generateTenant(spec, Date.now());
  if (events.length < count) throw new Error(`the generator made ${events.length} events, fewer than ${count}`);
  const ids = new Map<string, string>();
  const idOf = (externalId: string | null) => (externalId === null ? null : (ids.get(externalId) ?? ids.set(externalId, newId()).get(externalId)!));
  return events.slice(0, count).map((simEvent) => {
    const e = toEvent(wireEvent(simEvent));
    return {
      externalId: e.externalId,
      category: ActivityCategory[e.category],
      action: e.action,
      actorId: idOf(e.actorExternalId),
      actorExternalId: e.actorExternalId,
      occurredAt: new Date(e.occurredAt),
      ipAddress: e.ipAddress,
      country: e.country,
      userAgent: e.userAgent,
      succeeded: e.succeeded,
      targetType: e.targetType,
      targetId: e.targetId,
      fileId: idOf(e.fileExternalId),
      fileExternalId: e.fileExternalId,
      raw: e.raw,
    };
  });
}

type Value = string | boolean | Date | null;
interface Column {
  readonly name: string;
  /** PostgreSQL type, for unnest's array casts. */
  readonly type: string;
  readonly value: (r: ActivityRecord, instanceId: string, now: Date) => Value;
}

/** The row insertActivities writes for a record (subgraphs/activities/activity.service.ts), column by column. */
const COLUMNS: readonly Column[] = [
  { name: 'id', type: 'uuid', value: () => newId() },
  { name: 'instance_id', type: 'uuid', value: (_r, instanceId) => instanceId },
  { name: 'external_id', type: 'text', value: (r) => r.externalId },
  { name: 'category', type: 'text', value: (r) => r.category },
  { name: 'action', type: 'text', value: (r) => r.action },
  { name: 'actor_id', type: 'uuid', value: (r) => r.actorId ?? null },
  { name: 'occurred_at', type: 'timestamptz', value: (r) => r.occurredAt },
  { name: 'ingested_at', type: 'timestamptz', value: (_r, _i, now) => now },
  { name: 'ip_address', type: 'text', value: (r) => r.ipAddress ?? null },
  { name: 'country', type: 'text', value: (r) => r.country ?? null },
  { name: 'user_agent', type: 'text', value: (r) => r.userAgent ?? null },
  { name: 'succeeded', type: 'boolean', value: (r) => r.succeeded ?? true },
  { name: 'target_type', type: 'text', value: (r) => r.targetType ?? null },
  { name: 'target_id', type: 'text', value: (r) => r.targetId ?? null },
  { name: 'file_id', type: 'uuid', value: (r) => r.fileId ?? null },
  { name: 'actor_external_id', type: 'text', value: (r) => r.actorExternalId ?? null },
  { name: 'file_external_id', type: 'text', value: (r) => r.fileExternalId ?? null },
  { name: 'raw', type: 'jsonb', value: (r) => (r.raw === undefined || r.raw === null ? null : JSON.stringify(r.raw)) },
];
/** insertActivities marks new events for policy evaluation where the table has the column. */
const EVALUATION_PENDING: Column = { name: 'evaluation_pending', type: 'boolean', value: () => true };

/** One value in COPY's text format: `\N` for null, backslash escapes for what would end a field or a row. */
function copyText(value: Value): string {
  if (value === null) return '\\N';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'boolean') return value ? 't' : 'f';
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** What pg's connection offers a query in COPY IN mode (pg/lib/connection.js; pg-copy-streams uses the same). */
interface CopyConnection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/**
 * `COPY ... FROM STDIN` through pg's own query queue: when the server answers CopyInResponse, pg hands
 * the active query the connection, and this one sends its chunks and CopyDone. pg-copy-streams is not a
 * dependency; this is the same protocol step without the stream interface.
 */
class CopyFromStdin extends pg.Query {
  constructor(
    text: string,
    private readonly chunks: readonly Buffer[],
    callback: (error: Error | undefined) => void,
  ) {
    super(text, callback);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (const chunk of this.chunks) connection.sendCopyFromChunk(chunk);
    connection.endCopyFrom();
  }
}

interface Method {
  readonly name: string;
  /** Stores `records`; answers nothing, the stored count is checked after. */
  readonly run: (records: readonly ActivityRecord[]) => Promise<void>;
}

interface Measured {
  readonly name: string;
  readonly seconds: number[];
}

async function main(): Promise<number> {
  const present = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('BENCH_') && v));
  const parsed = SettingsSchema.safeParse(present);
  if (!parsed.success) {
    console.error(`Invalid settings:\n${parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n')}`);
    return 2;
  }
  const { BENCH_ROWS: rows, BENCH_RUNS: runs } = parsed.data;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-bench-'));
  // When run as root, embedded-postgres initialises `<tmp>/postgres` as the `postgres` user, who must be able to enter tmp.
  fs.chmodSync(tmp, 0o711);
  let postgres: EmbeddedPostgres | undefined;
  let db: Database | undefined;
  let client: pg.Client | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await client?.end().catch(() => undefined);
      await db?.close();
      await postgres?.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    })());
  const interrupt = (signal: NodeJS.Signals) => void cleanup().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', interrupt).once('SIGTERM', interrupt);
  try {
    postgres = await startEmbeddedPostgres(path.join(tmp, 'postgres'));
    await postgres.ensureDatabase('tenantwatch_bench');
    const url = postgres.databaseUrl('tenantwatch_bench');
    const database = (db = await openDatabase({ ...activitiesModule, url, poolMax: 5 }));
    const raw = (client = new pg.Client({ connectionString: url }));
    await raw.connect();
    const generating = performance.now();
    const records = generateRecords(rows);
    const generatedSeconds = (performance.now() - generating) / 1000;
    const { rows: present } = await raw.query<{ column_name: string }>(`select column_name from information_schema.columns where table_schema = 'activities' and table_name = 'activity'`);
    const columns = present.some((c) => c.column_name === EVALUATION_PENDING.name) ? [...COLUMNS, EVALUATION_PENDING] : COLUMNS;
    const { rows: indexes } = await raw.query<{ indexname: string }>(`select indexname from pg_indexes where schemaname = 'activities' and tablename = 'activity' order by indexname`);
    const instanceId = newId();
    const names = columns.map((c) => c.name).join(', ');

    const inBatches = (size: number) => async (all: readonly ActivityRecord[]) => {
      // A fresh service (EntityManager fork) per batch, as scanActivities makes one per page.
      for (let i = 0; i < all.length; i += size) await new ActivityService(database.fork()).insertActivities(instanceId, all.slice(i, i + size));
    };
    const methods: Method[] = [
      { name: 'insertActivities ×500', run: inBatches(500) },
      { name: 'insertActivities ×5000', run: inBatches(5_000) },
      {
        // What-if, not the service: insertActivities' statement answering ids only, no entities built.
        name: 'same insert, returning id ×500',
        run: async (all) => {
          const knex = database.knex();
          for (let i = 0; i < all.length; i += 500) {
            const now = new Date();
            const batch = all.slice(i, i + 500).map((r) => Object.fromEntries(columns.map((c) => [c.name, c.value(r, instanceId, now)])));
            await upsertRows(knex, TABLE, batch, { conflict: ['instance_id', 'external_id'], update: [], returning: ['id'] });
          }
        },
      },
      {
        name: 'unnest, one statement',
        run: async (all) => {
          const now = new Date();
          const arrays = columns.map((c) => all.map((r) => c.value(r, instanceId, now)));
          const casts = columns.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
          await raw.query(`insert into ${TABLE} (${names}) select * from unnest(${casts}) on conflict (instance_id, external_id) do nothing`, arrays);
        },
      },
      {
        name: 'COPY, one statement',
        run: async (all) => {
          const now = new Date();
          const chunks: Buffer[] = [];
          for (let i = 0; i < all.length; i += 1_000) {
            const lines = all.slice(i, i + 1_000).map((r) => `${columns.map((c) => copyText(c.value(r, instanceId, now))).join('\t')}\n`);
            chunks.push(Buffer.from(lines.join(''), 'utf8'));
          }
          await new Promise<void>((resolve, reject) => {
            raw.query(new CopyFromStdin(`copy ${TABLE} (${names}) from stdin`, chunks, (error) => (error ? reject(error) : resolve())));
          });
        },
      },
    ];

    console.log(
      [
        `Tenantwatch ingest benchmark (Node ${process.version}): ${rows} activities (generated in ${generatedSeconds.toFixed(1)} s), ${runs} run(s) per method, best counts.`,
        `Table ${TABLE}: ${columns.length} columns written, ${indexes.length} indexes (${indexes.map((i) => i.indexname).join(', ')}); truncated and checkpointed before each run.`,
        `Caveat: ${os.availableParallelism()} CPU cores shared by this Node process and PostgreSQL (embedded, fsync off). Load average at start: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}.`,
      ].join('\n'),
    );

    const measured: Measured[] = [];
    let wrong = 0;
    for (const method of methods) {
      const result: Measured = { name: method.name, seconds: [] };
      for (let run = 0; run < runs; run++) {
        await raw.query(`truncate ${TABLE}`);
        await raw.query('checkpoint');
        const started = performance.now();
        await method.run(records);
        result.seconds.push((performance.now() - started) / 1000);
        const { rows: counted } = await raw.query<{ n: string }>(`select count(*) as n from ${TABLE}`);
        if (Number(counted[0]!.n) !== rows) {
          wrong += 1;
          console.error(`${method.name}: stored ${counted[0]!.n} rows, expected ${rows}`);
        }
      }
      measured.push(result);
    }

    const copy = Math.max(...measured.find((m) => m.name.startsWith('COPY'))!.seconds.map((s) => rows / s));
    const widths = [32, 10, 20, 8];
    const row = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
    const lines = ['', row(['method', 'rows/s', 'runs (s)', '÷ COPY'])];
    for (const m of measured) {
      const best = Math.min(...m.seconds);
      const rate = rows / best;
      lines.push(row([m.name, rate.toFixed(0), m.seconds.map((s) => s.toFixed(2)).join(' / '), (rate / copy).toFixed(2)]));
    }
    const service = measured.filter((m) => m.name.startsWith('insertActivities')).map((m) => rows / Math.min(...m.seconds) / copy);
    lines.push(
      '',
      '"same insert, returning id" is a what-if, not the service: insertActivities\' statement without building entities from RETURNING *.',
      `Target: insertActivities ≥ 0.50 of COPY: ${service.map((r) => r.toFixed(2)).join(' (×500), ')} (×5000): ${service.every((r) => r >= 0.5) ? 'met' : 'MISSED'}.`,
      `Stored counts: ${wrong === 0 ? 'every run stored every row' : `${wrong} run(s) stored a wrong count`}.`,
    );
    console.log(lines.join('\n'));
    return wrong > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

process.exit(await main().catch((error: unknown) => {
  console.error(error);
  return 1;
}));
