import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// `npm run bench:scan -- --provider google`: connects an emulated Google Workspace customer (2,000 users,
// 10,000 My Drive files by default) as an instance of the Google Workspace connector and measures how the
// scheduler spends the rate it is allowed: useful requests (2xx and 3xx answers: rate-limit refusals and
// retries apart) per second of the busiest API (Directory, Reports, Drive: each has a quota and a budget
// of its own, the quota less the headroom) ÷ its allowed rate, and wall time ÷ the limit-derived minimum
// (the busiest API's useful requests ÷ its allowed rate). The emulator's per-user quotas are the
// instance's, so nothing should be rate-limited. The metadata scan ends when the instance is CONNECTED;
// the graph's counts are then checked against the emulator's truth (a mismatch or a timeout exits 1).
// The emulator shares this process's event loop.
import 'reflect-metadata';
import { z } from 'zod';
import { gatewayClient, runBenchmark, type Bench, waitUntilConnected } from './harness.js';

const SettingsSchema = z.object({
  BENCH_USERS: z.coerce.number().int().min(1).max(100_000).default(2_000),
  BENCH_FILES: z.coerce.number().int().min(0).max(500_000).default(10_000),
  BENCH_GROUPS: z.coerce.number().int().min(0).max(20_000).default(100),
  BENCH_TOKENS: z.coerce.number().int().min(0).max(200_000).default(2_000),
  /** Queries per minute each API allows per user (and the instance's quota for each). */
  BENCH_LIMIT: z.coerce.number().int().min(60).max(600_000).default(2_400),
  BENCH_TIMEOUT_SECONDS: z.coerce.number().positive().max(7_200).default(600),
});
type Settings = z.output<typeof SettingsSchema>;

const CUSTOMER_ID = 'C0bench00';
const DOMAIN = 'bench.example.com';
const SERVICE_ACCOUNT = { clientEmail: 'tenantwatch@bench-project.iam.gserviceaccount.com', clientId: '104857600000000000099' };
const CHANNELS_FILE = 'tenantwatch-channels.json';

async function benchmark(bench: Bench<Settings>): Promise<number> {
  const s = bench.settings;
  const { loadConfig } = await import('../platform/config.js');
  const { signToken } = await import('../platform/auth.js');
  const { startGoogleEmulator } = await import('../emulators/google/index.js');
  const { loopbackTls } = await import('../emulators/loopback-tls.js');
  const headroom = 10;
  // HTTPS as Google's: the scheduler trusts the emulator's certificate.
  const tls = await loopbackTls();
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-bench-ca-')), 'emulator.pem');
  fs.writeFileSync(caFile, tls.cert);
  bench.defer(async () => fs.rmSync(path.dirname(caFile), { recursive: true, force: true }));
  const config = loadConfig(
    bench.configEnv({ HEADROOM_PERCENT: String(headroom), BACKFILL_DAYS: '1', DEMO: 'off', CONNECTOR_CA_FILE: caFile }),
  );
  const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const quota = { perProject: s.BENCH_LIMIT * 10, perUser: s.BENCH_LIMIT };
  const generating = performance.now();
  const emulator = await startGoogleEmulator({
    tls,
    customers: [
      {
        customerId: CUSTOMER_ID,
        domain: DOMAIN,
        users: s.BENCH_USERS,
        suspended: Math.ceil(s.BENCH_USERS / 100),
        archived: Math.ceil(s.BENCH_USERS / 200),
        admins: 10,
        groups: s.BENCH_GROUPS,
        apps: 20,
        tokens: s.BENCH_TOKENS,
        files: s.BENCH_FILES,
        // My Drive only: the emulator refuses files.export of shared drive items.
        sharedDrives: 0,
        backfillDays: 1,
        eventsPerUserPerDay: 1,
        latencyMs: { login: 0, admin: 0, drive: 0, token: 0 },
        limits: { directory: quota, reports: quota, drive: quota },
        serviceAccounts: [{ ...SERVICE_ACCOUNT, publicKeyPem: keys.publicKey.export({ type: 'spki', format: 'pem' }).toString() }],
      },
    ],
  });
  bench.defer(() => emulator.stop());
  const control = emulator.customer(CUSTOMER_ID);
  console.log(`emulated customer generated in ${((performance.now() - generating) / 1000).toFixed(1)} s`);
  const admin = control.truth().users.find((u) => u.isAdmin && !u.suspended)!.primaryEmail;
  const stack = await bench.startStack(config, { scheduler: true });
  const token = await signToken(config, { role: 'admin', subject: 'bench' });
  const ask = gatewayClient(stack.gateway.url, token);

  const started = performance.now();
  const { connectApp } = await ask<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "google", name: "bench", config: $config }) { id } }`,
    {
      config: {
        serviceAccountKey: {
          type: 'service_account',
          project_id: 'bench-project',
          private_key_id: 'emulated',
          private_key: keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
          client_email: SERVICE_ACCOUNT.clientEmail,
          client_id: SERVICE_ACCOUNT.clientId,
          token_uri: emulator.tokenUrl,
        },
        adminSubject: admin,
        customerId: CUSTOMER_ID,
        tokenUrl: emulator.tokenUrl,
        adminEndpoint: emulator.url,
        driveEndpoint: emulator.url,
        quotas: { directory: s.BENCH_LIMIT, reports: s.BENCH_LIMIT, drive: s.BENCH_LIMIT },
      },
    },
  );
  await waitUntilConnected(ask, connectApp.id, { started, timeoutSeconds: s.BENCH_TIMEOUT_SECONDS });
  const seconds = (performance.now() - started) / 1000;
  const stats = control.stats();
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
      } else other += count;
    }
  }
  throttled = stats.throttled;
  other -= throttled;
  // Each API has a budget of its own at its quota: the minimum is the busiest API's requests ÷ its allowed rate.
  const allowedPerSecond = (s.BENCH_LIMIT * (1 - headroom / 100)) / 60;
  const [busiest, busiestRequests] = Object.entries(perService).sort((a, b) => b[1] - a[1])[0] ?? ['none', 0];
  const minimum = busiestRequests / allowedPerSecond;
  const utilization = minimum / seconds;
  const truth = control.truth();
  const counts = await ask<{ accounts: { totalCount: number }; files: { totalCount: number }; appPermissions: { totalCount: number } }>(
    `{ accounts(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } files(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } appPermissions(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } }`,
  );
  const expected = {
    accounts: truth.users.filter((u) => !u.deleted).length,
    files: truth.files.filter((f) => !f.folder && !f.deleted && f.name !== CHANNELS_FILE).length,
  };
  const f2 = (n: number) => n.toFixed(2);
  console.log(
    [
      `Google Workspace customer: ${s.BENCH_USERS} users, ${s.BENCH_FILES} files, ${s.BENCH_TOKENS} tokens, ${s.BENCH_GROUPS} groups; quota ${s.BENCH_LIMIT}/min per API, headroom ${headroom}%`,
      `connected in ${seconds.toFixed(1)} s; useful requests ${useful} (${Object.entries(perService)
        .map(([k, v]) => `${k} ${v}`)
        .join(
          ', ',
        )}), rate-limited ${throttled}, other failures ${other}, tokens ${Object.values(stats.tokens).reduce((a, b) => a + b, 0)}`,
      `allowed ${allowedPerSecond.toFixed(1)} req/s per API; the busiest, ${busiest}, achieved ${(busiestRequests / seconds).toFixed(1)} req/s: utilization ${f2(utilization)}`,
      `wall time ÷ limit-derived minimum (${minimum.toFixed(1)} s): ${f2(seconds / minimum)}`,
      `graph vs emulator: accounts ${counts.accounts.totalCount}/${expected.accounts}, files ${counts.files.totalCount}/${expected.files}, app permissions ${counts.appPermissions.totalCount}`,
    ].join('\n'),
  );
  const exact = counts.accounts.totalCount === expected.accounts && counts.files.totalCount === expected.files;
  return exact && throttled === 0 ? 0 : 1;
}

await runBenchmark({ settings: SettingsSchema }, benchmark);
