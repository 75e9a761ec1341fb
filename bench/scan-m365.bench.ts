import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// `npm run bench:scan -- --provider m365` (or `npm run bench:scan:m365`): connects an emulated Microsoft
// 365 tenant (20,000 users, 100,000 files by default) and measures how the scheduler spends the rate it
// is allowed: useful requests (2xx and 3xx answers: 429s and retries apart) per second of the busiest
// Graph service ÷ its allowed rate (each service has a budget of the limit less the headroom), and wall
// time ÷ the limit-derived minimum (the busiest service's useful requests ÷ its allowed rate). The emulator's per-service limits are the instance's, so nothing should be throttled.
// The metadata scan ends when the instance is CONNECTED; the graph's counts are then checked against
// the emulator's truth (a mismatch or a timeout exits 1). The emulator shares this process's event loop.
import 'reflect-metadata';
import { z } from 'zod';
import { gatewayClient, runBenchmark, type Bench, waitUntilConnected } from './harness.js';

const SettingsSchema = z.object({
  BENCH_USERS: z.coerce.number().int().min(1).max(100_000).default(20_000),
  BENCH_FILES: z.coerce.number().int().min(0).max(200_000).default(100_000),
  BENCH_GROUPS: z.coerce.number().int().min(0).max(10_000).default(200),
  BENCH_GRANTS: z.coerce.number().int().min(0).max(100_000).default(5_000),
  /** Requests per minute the instance may make (and each emulated service allows). */
  BENCH_LIMIT: z.coerce.number().int().min(60).max(600_000).default(6_000),
  BENCH_TIMEOUT_SECONDS: z.coerce.number().positive().max(7_200).default(1_800),
});
type Settings = z.output<typeof SettingsSchema>;

const TENANT_ID = 'be0c4000-0365-4d3e-8a1b-7e57e0a11ce5';
const CLIENT_ID = 'be0c4000-0365-4a2b-9c3d-0123456789ab';
const SECRET = 'bench-client-secret-value';

async function benchmark(bench: Bench<Settings>): Promise<number> {
  const s = bench.settings;
  const { loadConfig } = await import('../platform/config.js');
  const { signToken } = await import('../platform/auth.js');
  const { startM365Emulator } = await import('../emulators/m365/index.js');
  const { loopbackTls } = await import('../emulators/loopback-tls.js');
  const headroom = 10;
  // HTTPS as Microsoft's (MSAL refuses an http authority): the scheduler trusts the emulator's certificate.
  const tls = await loopbackTls();
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-bench-ca-')), 'emulator.pem');
  fs.writeFileSync(caFile, tls.cert);
  bench.defer(async () => fs.rmSync(path.dirname(caFile), { recursive: true, force: true }));
  const config = loadConfig(
    bench.configEnv({ HEADROOM_PERCENT: String(headroom), BACKFILL_DAYS: '1', DEMO: 'off', CONNECTOR_CA_FILE: caFile }),
  );
  const generating = performance.now();
  const emulator = await startM365Emulator({
    tls,
    tenants: [
      {
        tenantId: TENANT_ID,
        users: s.BENCH_USERS,
        guests: Math.min(1000, Math.ceil(s.BENCH_USERS / 50)),
        admins: 10,
        groups: s.BENCH_GROUPS,
        files: s.BENCH_FILES,
        apps: 20,
        grants: s.BENCH_GRANTS,
        backfillDays: 1,
        signInsPerUserPerDay: 1,
        limits: { directory: s.BENCH_LIMIT, audit: s.BENCH_LIMIT, files: s.BENCH_LIMIT },
        clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }],
      },
    ],
  });
  bench.defer(() => emulator.stop());
  console.log(`emulated tenant generated in ${((performance.now() - generating) / 1000).toFixed(1)} s`);
  const stack = await bench.startStack(config, { scheduler: true });
  const token = await signToken(config, { role: 'admin', subject: 'bench' });
  const ask = gatewayClient(stack.gateway.url, token);

  const started = performance.now();
  const { connectApp } = await ask<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "m365", name: "bench", config: $config }) { id } }`,
    {
      config: {
        tenantId: TENANT_ID,
        clientId: CLIENT_ID,
        clientSecret: SECRET,
        authorityHost: emulator.authorityHost,
        graphEndpoint: emulator.graphEndpoint,
        rateLimitPerMinute: s.BENCH_LIMIT,
      },
    },
  );
  await waitUntilConnected(ask, connectApp.id, { started, timeoutSeconds: s.BENCH_TIMEOUT_SECONDS });
  const seconds = (performance.now() - started) / 1000;
  const stats = emulator.tenant(TENANT_ID).stats();
  let useful = 0;
  let throttled = 0;
  let other = 0;
  const perService: Record<string, number> = {};
  for (const [route, statuses] of Object.entries(stats.requests)) {
    for (const [code, count] of Object.entries(statuses)) {
      const n = Number(code);
      if (n >= 200 && n < 400) {
        useful += count;
        const service = route.split(' ')[0]!;
        perService[service] = (perService[service] ?? 0) + count;
      } else if (n === 429) throttled += count;
      else other += count;
    }
  }
  // Each Graph service has a budget of its own at the limit: the minimum is the busiest service's requests ÷ its allowed rate.
  const allowedPerSecond = (s.BENCH_LIMIT * (1 - headroom / 100)) / 60;
  const [busiest, busiestRequests] = Object.entries(perService).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  const minimum = busiestRequests / allowedPerSecond;
  const utilization = minimum / seconds;
  const truth = emulator.tenant(TENANT_ID).truth();
  const counts = await ask<{ accounts: { totalCount: number }; files: { totalCount: number }; appPermissions: { totalCount: number } }>(
    `{ accounts(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } files(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } appPermissions(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } }`,
  );
  const expected = {
    accounts: truth.users.filter((u) => !u.deleted).length,
    files: truth.items.filter((i) => !i.folder && !i.deleted).length,
    // Delegated grants and the application permissions apps hold (one each).
    appPermissions: truth.grants.filter((g) => !g.deleted).length + truth.appRoleAssignments.filter((a) => !a.deleted).length,
  };
  const f2 = (n: number) => n.toFixed(2);
  console.log(
    [
      `Microsoft 365 tenant: ${s.BENCH_USERS} users, ${s.BENCH_FILES} files, ${s.BENCH_GRANTS} grants; limit ${s.BENCH_LIMIT}/min, headroom ${headroom}%`,
      `connected in ${seconds.toFixed(1)} s; useful requests ${useful} (${Object.entries(perService)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), throttled ${throttled}, other failures ${other}`,
      `allowed ${allowedPerSecond.toFixed(1)} req/s per service; the busiest, ${busiest}, achieved ${(busiestRequests / seconds).toFixed(1)} req/s: utilization ${f2(utilization)}`,
      `wall time ÷ limit-derived minimum (${minimum.toFixed(1)} s): ${f2(seconds / minimum)}`,
      `graph vs emulator: accounts ${counts.accounts.totalCount}/${expected.accounts}, files ${counts.files.totalCount}/${expected.files}, app permissions ${counts.appPermissions.totalCount}/${expected.appPermissions}`,
    ].join('\n'),
  );
  const exact =
    counts.accounts.totalCount === expected.accounts &&
    counts.files.totalCount === expected.files &&
    counts.appPermissions.totalCount === expected.appPermissions;
  return exact && throttled === 0 ? 0 : 1;
}

await runBenchmark({ settings: SettingsSchema }, benchmark);
