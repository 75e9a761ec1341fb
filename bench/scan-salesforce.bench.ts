import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// `npm run bench:scan -- --provider salesforce`: connects one emulated Salesforce org (5,000 users, 20,000
// files by default) as an instance of the Salesforce connector and measures how the scheduler spends
// the rate it is allowed: useful requests (2xx and 3xx answers) per second ÷ the allowed rate (the
// instance's limit less the headroom; the org has one budget for every API), and wall time ÷ the
// limit-derived minimum (the useful requests ÷ the allowed rate). It also prints the org's daily API
// quota the scan spent and the headroom left, as the org's `/limits` reports it and as the
// connector's rate budget knows it (the instance's apiUsage.dailyQuota). The metadata scan ends when
// the instance is CONNECTED; the graph's counts are then checked against the emulator's truth (a
// mismatch or a timeout exits 1). The emulator shares this process's event loop.
import 'reflect-metadata';
import { z } from 'zod';
import { gatewayClient, runBenchmark, type Bench, waitUntilConnected } from './harness.js';

const SettingsSchema = z.object({
  BENCH_USERS: z.coerce.number().int().min(1).max(100_000).default(5_000),
  BENCH_FILES: z.coerce.number().int().min(0).max(200_000).default(20_000),
  BENCH_GROUPS: z.coerce.number().int().min(0).max(10_000).default(100),
  BENCH_TOKENS: z.coerce.number().int().min(0).max(100_000).default(5_000),
  /** Requests per minute the instance may make. */
  BENCH_LIMIT: z.coerce.number().int().min(60).max(100_000).default(3_000),
  /** The org's daily API request allocation (an Enterprise org of this many users: 100,000 + 1,000 per user). */
  BENCH_DAILY_LIMIT: z.coerce.number().int().min(1).max(100_000_000).default(5_100_000),
  /** Records per query page the emulator answers (Salesforce's default batch is 2,000). */
  BENCH_PAGE_SIZE: z.coerce.number().int().min(1).max(2_000).default(2_000),
  BENCH_TIMEOUT_SECONDS: z.coerce.number().positive().max(7_200).default(600),
});
type Settings = z.output<typeof SettingsSchema>;

const ORG_ID = '00D5g0000000benEAA';
const CONSUMER_KEY = '3MVG9bench.consumer.key';
const USERNAME = 'tenantwatch@bench.example.com';

async function benchmark(bench: Bench<Settings>): Promise<number> {
  const s = bench.settings;
  const { loadConfig } = await import('../platform/config.js');
  const { signToken } = await import('../platform/auth.js');
  const { startSalesforceEmulator } = await import('../emulators/salesforce/index.js');
  const { loopbackTls } = await import('../emulators/loopback-tls.js');
  const { salesforceConnectorFactory } = await import('../connectors/salesforce/connector.js');
  const { plainTokenHttp } = await import('../connectors/simulated/direct-http.js');
  const { generate } = await import('selfsigned');
  const { Agent, getGlobalDispatcher, setGlobalDispatcher } = await import('undici');
  const { rootCertificates } = await import('node:tls');
  const headroom = 10;
  // HTTPS as Salesforce's: the scheduler trusts the emulator's certificate, and so does this process's /limits reading.
  const tls = await loopbackTls();
  const caFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-bench-ca-')), 'emulator.pem');
  fs.writeFileSync(caFile, tls.cert);
  bench.defer(async () => fs.rmSync(path.dirname(caFile), { recursive: true, force: true }));
  const previous = getGlobalDispatcher();
  const trusting = new Agent({ connect: { ca: [...rootCertificates, tls.cert] } });
  setGlobalDispatcher(trusting);
  bench.defer(async () => {
    setGlobalDispatcher(previous);
    await trusting.close();
  });
  const config = loadConfig(
    bench.configEnv({ HEADROOM_PERCENT: String(headroom), BACKFILL_DAYS: '1', DEMO: 'off', CONNECTOR_CA_FILE: caFile }),
  );
  const now = Date.now();
  const pems = await generate([{ name: 'commonName', value: 'tenantwatch-bench' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(now - 60_000),
    notAfterDate: new Date(now + 86_400_000),
  });
  const generating = performance.now();
  const emulator = await startSalesforceEmulator({
    tls,
    orgs: [
      {
        organizationId: ORG_ID,
        name: 'bench',
        users: s.BENCH_USERS,
        admins: 20,
        frozen: Math.ceil(s.BENCH_USERS / 100),
        inactive: Math.ceil(s.BENCH_USERS / 50),
        externalUsers: Math.ceil(s.BENCH_USERS / 20),
        groups: s.BENCH_GROUPS,
        files: s.BENCH_FILES,
        publicLinks: Math.ceil(s.BENCH_FILES / 20),
        oauthTokens: s.BENCH_TOKENS,
        backfillDays: 1,
        loginsPerUserPerDay: 1,
        setupChangesPerDay: 200,
        pageSize: s.BENCH_PAGE_SIZE,
        dailyApiLimit: s.BENCH_DAILY_LIMIT,
        connectedApps: [{ consumerKey: CONSUMER_KEY, certificatePem: pems.cert, username: USERNAME }],
      },
    ],
  });
  bench.defer(() => emulator.stop());
  const org = emulator.org(ORG_ID);
  console.log(`emulated org generated in ${((performance.now() - generating) / 1000).toFixed(1)} s`);
  const instanceConfig = {
    instanceUrl: org.instanceUrl,
    loginUrl: emulator.loginUrl,
    consumerKey: CONSUMER_KEY,
    username: USERNAME,
    privateKeyPem: pems.private,
    organizationId: ORG_ID,
    dailyRequestLimit: s.BENCH_DAILY_LIMIT,
    rateLimitPerMinute: s.BENCH_LIMIT,
  };
  // The org's own account of its daily quota (GET /limits, DailyApiRequests), read with the connector's credentials.
  const credentials = salesforceConnectorFactory.credentials(salesforceConnectorFactory.validateConfig(instanceConfig), plainTokenHttp);
  const dailyApiRequests = async (): Promise<{ Max: number; Remaining: number }> => {
    const response = await fetch(`${org.instanceUrl}/services/data/v62.0/limits`, { headers: await credentials.headers() });
    if (!response.ok) throw new Error(`GET /limits: HTTP ${response.status} ${await response.text()}`);
    return ((await response.json()) as { DailyApiRequests: { Max: number; Remaining: number } }).DailyApiRequests;
  };
  const before = await dailyApiRequests();
  const requestsBefore = org.stats().requests;

  const stack = await bench.startStack(config, { scheduler: true });
  const token = await signToken(config, { role: 'admin', subject: 'bench' });
  const ask = gatewayClient(stack.gateway.url, token);

  const started = performance.now();
  const { connectApp } = await ask<{ connectApp: { id: string } }>(
    `mutation ($config: JSON!) { connectApp(input: { provider: "salesforce", name: "bench", config: $config }) { id } }`,
    { config: instanceConfig },
  );
  await waitUntilConnected(ask, connectApp.id, {
    started,
    timeoutSeconds: s.BENCH_TIMEOUT_SECONDS,
    progress: () => `${org.stats().requests - requestsBefore} requests (by status ${JSON.stringify(org.stats().byStatus)})`,
  });
  const seconds = (performance.now() - started) / 1000;
  const stats = org.stats();
  // Nothing else may spend the org's quota from here on (the data scan of the files starts once they are listed).
  await stack.scheduler?.stop();
  const scanRequests = org.stats().requests - requestsBefore;
  let useful = 0;
  let refused = 0;
  for (const [code, count] of Object.entries(stats.byStatus)) {
    const n = Number(code);
    if (n >= 200 && n < 400) useful += count;
    else refused += count;
  }
  // The /limits reading before the scan was one of them.
  useful -= 1;
  const after = await dailyApiRequests();
  const { appInstance } = await ask<{
    appInstance: { apiUsage: { requestsLastHour: number; dailyQuota: { limit: number; used: number; available: number } | null } };
  }>(`{ appInstance(id: "${connectApp.id}") { apiUsage { requestsLastHour dailyQuota { limit used available } } } }`);

  const allowedPerSecond = (s.BENCH_LIMIT * (1 - headroom / 100)) / 60;
  const minimum = useful / allowedPerSecond;
  const truth = org.truth();
  const counts = await ask<{ accounts: { totalCount: number }; files: { totalCount: number }; appPermissions: { totalCount: number } }>(
    `{ accounts(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } files(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } appPermissions(filter: { instanceId: "${connectApp.id}" }, first: 1) { totalCount } }`,
  );
  const expected = { accounts: truth.users.length, files: truth.files.filter((f) => !f.deleted).length };
  const spent = before.Remaining - after.Remaining;
  const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(2)}%`;
  const f2 = (n: number) => n.toFixed(2);
  const quota = appInstance.apiUsage.dailyQuota;
  console.log(
    [
      `Salesforce org: ${s.BENCH_USERS} users, ${s.BENCH_FILES} files, ${s.BENCH_TOKENS} OAuth tokens, ${s.BENCH_GROUPS} groups; pages of ${s.BENCH_PAGE_SIZE}; limit ${s.BENCH_LIMIT}/min, headroom ${headroom}%`,
      `connected in ${seconds.toFixed(1)} s; useful requests ${useful}, refused ${refused} (${stats.throttled} throttled, ${stats.limitExceeded} over the daily limit), tokens issued ${stats.tokensIssued}`,
      `allowed ${allowedPerSecond.toFixed(1)} req/s; achieved ${(useful / seconds).toFixed(1)} req/s: utilization ${f2(minimum / seconds)}`,
      `wall time ÷ limit-derived minimum (${minimum.toFixed(1)} s): ${f2(seconds / minimum)}`,
      `daily API quota (org's /limits): ${spent} of ${after.Max} spent by the scan and its data scan until the scheduler stopped (${pct(spent, after.Max)}; ${scanRequests} requests counted by the org, the token requests and the bench's /limits reading among them); ${after.Remaining} remaining (${pct(after.Remaining, after.Max)} headroom)`,
      quota
        ? `daily API quota (the connector's rate budget): used ${quota.used} of ${quota.limit}, ${quota.available} available to Tenantwatch after its ${headroom}% headroom (${pct(quota.available, quota.limit)})`
        : 'daily API quota (the connector’s rate budget): not reported',
      `graph vs emulator: accounts ${counts.accounts.totalCount}/${expected.accounts}, files ${counts.files.totalCount}/${expected.files}, app permissions ${counts.appPermissions.totalCount}`,
    ].join('\n'),
  );
  const exact = counts.accounts.totalCount === expected.accounts && counts.files.totalCount === expected.files;
  return exact && refused === 0 ? 0 : 1;
}

await runBenchmark({ settings: SettingsSchema }, benchmark);
