// `npm run bench:ingest`: how fast the audit trail is stored. BENCH_ROWS (default 200,000) realistic
// activity records (the simulator's generator, mapped as the connector and the scheduler map them) are
// stored four ways into the same table (the activities migrations: same columns, same 9 indexes),
// truncated and checkpointed before every run:
// - insertActivities ×500 and ×5000: the service the scheduler calls, a fresh service (EntityManager
//   fork) per batch as the activity scan makes one per page. Each batch is streamed with COPY into a
//   session temporary table, then one INSERT ... SELECT ... ON CONFLICT (instance_id, external_id) DO
//   NOTHING RETURNING id, in one transaction: deduplicated, new events pending evaluation, ids answered.
// - multi-row INSERT ×500: the path insertActivities took before (one INSERT ... VALUES with a bind
//   parameter per value, ON CONFLICT DO NOTHING RETURNING id), for comparison in the same run.
// - COPY: the baseline. The same rows, made (activityRows) and encoded (platform/copy.ts) by
//   the same code, streamed in one `COPY activities.activity FROM STDIN` straight into the table: no
//   deduplication, no ids back, one statement; what PostgreSQL takes at best, which the service cannot
//   do (a re-read event would fail the whole COPY).
// Every method makes its rows (ids, JSON text of `raw`) inside the timed part. Methods take turns within
// each of BENCH_RUNS (default 3) rounds, so a load that comes and goes on this shared machine falls on
// all of them; each is reported with its best and median run and the CPU seconds spent in this process
// and in PostgreSQL (all its processes) per run: where the time goes. Target (issue): insertActivities
// ≥ 0.8 of the COPY rate with pages of 500 (the page size real providers send). Exits 1 when a run stores a wrong count.
import 'reflect-metadata';
import os from 'node:os';
import { z } from 'zod';
import type { ActivityRecord } from '../subgraphs/activities/activity.service.js';
import { postgresCpuSeconds, runBenchmark } from './harness.js';

// Modules that log are imported after harness.js (a static import, evaluated first) has set LOG_LEVEL: the logger reads it when it loads.
const { openDatabase } = await import('../platform/database.js');
const { upsertRows } = await import('../platform/bulk.js');
const { copyRows } = await import('../platform/copy.js');
const { newId } = await import('../platform/ids.js');
const { activitiesModule } = await import('../subgraphs/activities/module.js');
const { ActivityService, ACTIVITY_COLUMNS, activityRows } = await import('../subgraphs/activities/activity.service.js');
const { ActivityCategory } = await import('../platform/vocabulary/activity-category.js');
const { resolveTenantSpec } = await import('../connectors/simulated/spec.js');
const { generateTenant } = await import('../connectors/simulated/generator.js');
const { wireEvent } = await import('../connectors/simulated/serialize.js');
const { toEvent } = await import('../connectors/simulated/mapping.js');

const TABLE = 'activities.activity';
const SettingsSchema = z.object({
  BENCH_ROWS: z.coerce.number().int().min(1_000).max(5_000_000).default(200_000),
  BENCH_RUNS: z.coerce.number().int().min(1).max(10).default(3),
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
  const spec = resolveTenantSpec({
    id: 'ingest',
    token: 'ingest-token-0',
    users,
    groups: 0,
    grants: 0,
    files: 500,
    backfillDays: days,
    backfillEventsPerUserPerDay: perUserPerDay,
    auditLagMs: 0,
  });
  const { events } = generateTenant(spec, Date.now());
  if (events.length < count) throw new Error(`the generator made ${events.length} events, fewer than ${count}`);
  const ids = new Map<string, string>();
  const idOf = (externalId: string | null) =>
    externalId === null ? null : (ids.get(externalId) ?? ids.set(externalId, newId()).get(externalId)!);
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

interface Method {
  readonly name: string;
  /** Stores `records`; answers nothing, the stored count is checked after. */
  readonly run: (records: readonly ActivityRecord[]) => Promise<void>;
}

interface Run {
  readonly seconds: number;
  readonly nodeCpu: number;
  /** Null where /proc cannot be read. */
  readonly postgresCpu: number | null;
}

const median = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

await runBenchmark({ settings: SettingsSchema }, async (bench) => {
  const { BENCH_ROWS: rows, BENCH_RUNS: runs } = bench.settings;
  const url = await bench.database();
  const database = await openDatabase({ ...activitiesModule, url, poolMax: 5 });
  bench.defer(() => database.close());
  const raw = await bench.client();
  const generating = performance.now();
  const records = generateRecords(rows);
  const generatedSeconds = (performance.now() - generating) / 1000;
  const { rows: indexes } = await raw.query<{ indexname: string }>(
    `select indexname from pg_indexes where schemaname = 'activities' and tablename = 'activity' order by indexname`,
  );
  const instanceId = newId();

  const inBatches = (size: number) => async (all: readonly ActivityRecord[]) => {
    // A fresh service (EntityManager fork) per batch, as scanActivities makes one per page.
    for (let i = 0; i < all.length; i += size)
      await new ActivityService(database.fork()).insertActivities(instanceId, all.slice(i, i + size));
  };
  const methods: Method[] = [
    { name: 'insertActivities ×500', run: inBatches(500) },
    { name: 'insertActivities ×5000', run: inBatches(5_000) },
    {
      name: 'multi-row INSERT ×500 (before)',
      run: async (all) => {
        const knex = database.knex();
        for (let i = 0; i < all.length; i += 500) {
          const values = [...activityRows(instanceId, new Date(), all.slice(i, i + 500))];
          const batch = values.map((v) => Object.fromEntries(ACTIVITY_COLUMNS.map((name, c) => [name, v[c]])));
          await upsertRows(knex, TABLE, batch, { conflict: ['instance_id', 'external_id'], update: [], returning: ['id'] });
        }
      },
    },
    {
      name: 'COPY, one statement',
      run: async (all) => {
        await copyRows(raw, TABLE, ACTIVITY_COLUMNS, activityRows(instanceId, new Date(), all));
      },
    },
  ];

  console.log(
    [
      `Tenantwatch ingest benchmark (Node ${process.version}): ${rows} activities (generated in ${generatedSeconds.toFixed(1)} s), ${runs} round(s), the methods taking turns in each.`,
      `Table ${TABLE}: ${ACTIVITY_COLUMNS.length} columns written, ${indexes.length} indexes (${indexes.map((i) => i.indexname).join(', ')}); truncated and checkpointed before each run.`,
      `Caveat: ${os.availableParallelism()} CPU cores shared by this Node process, PostgreSQL (embedded, durable: fsync and synchronous commit on) and whatever else runs here. Load average at start: ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}.`,
    ].join('\n'),
  );

  const measured = new Map<string, Run[]>(methods.map((m) => [m.name, []]));
  let wrong = 0;
  for (let round = 0; round < runs; round++) {
    // Each round starts with another method, so none always runs first or last.
    const order = methods.map((_, i) => methods[(i + round) % methods.length]!);
    for (const method of order) {
      await raw.query(`truncate ${TABLE}`);
      await raw.query('checkpoint');
      const postgresBefore = postgresCpuSeconds(bench.postgresDir);
      const nodeBefore = process.cpuUsage();
      const started = performance.now();
      await method.run(records);
      const seconds = (performance.now() - started) / 1000;
      const node = process.cpuUsage(nodeBefore);
      const postgresAfter = postgresCpuSeconds(bench.postgresDir);
      measured.get(method.name)!.push({
        seconds,
        nodeCpu: (node.user + node.system) / 1e6,
        postgresCpu: postgresBefore === null || postgresAfter === null ? null : postgresAfter - postgresBefore,
      });
      const { rows: counted } = await raw.query<{ n: string }>(`select count(*) as n from ${TABLE}`);
      if (Number(counted[0]!.n) !== rows) {
        wrong += 1;
        console.error(`${method.name}: stored ${counted[0]!.n} rows, expected ${rows}`);
      }
    }
  }

  const rate = (name: string, pick: (seconds: readonly number[]) => number) => rows / pick(measured.get(name)!.map((r) => r.seconds));
  const best = (seconds: readonly number[]) => Math.min(...seconds);
  const copy = methods.find((m) => m.name.startsWith('COPY'))!.name;
  const widths = [32, 9, 9, 9, 9, 10, 10, 22];
  const row = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' ');
  const cpu = (value: number | null) => (value === null ? 'n/a' : value.toFixed(1));
  const lines = ['', row(['method', 'best/s', '÷ COPY', 'median/s', '÷ COPY', 'node cpu', 'pg cpu', 'runs (s)'])];
  for (const method of methods) {
    const measuredRuns = measured.get(method.name)!;
    const postgresCpus = measuredRuns.map((r) => r.postgresCpu);
    lines.push(
      row([
        method.name,
        rate(method.name, best).toFixed(0),
        (rate(method.name, best) / rate(copy, best)).toFixed(2),
        rate(method.name, median).toFixed(0),
        (rate(method.name, median) / rate(copy, median)).toFixed(2),
        cpu(median(measuredRuns.map((r) => r.nodeCpu))),
        cpu(postgresCpus.includes(null) ? null : median(postgresCpus as number[])),
        measuredRuns.map((r) => r.seconds.toFixed(1)).join(' / '),
      ]),
    );
  }
  const service = methods.filter((m) => m.name.startsWith('insertActivities')).map((m) => rate(m.name, median) / rate(copy, median));
  lines.push(
    '',
    'rows/s over the best and the median run; ÷ COPY against the same statistic of COPY; CPU seconds (median run) of this process and of PostgreSQL.',
    `Target: insertActivities ≥ 0.80 of COPY (medians): ${service.map((r) => r.toFixed(2)).join(' (×500), ')} (×5000): ${service.every((r) => r >= 0.8) ? 'met' : 'MISSED'}.`,
    `Stored counts: ${wrong === 0 ? 'every run stored every row' : `${wrong} run(s) stored a wrong count`}.`,
  );
  console.log(lines.join('\n'));
  return wrong > 0 ? 1 : 0;
});
