import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { TEST_JWT_SECRET, startTestStack, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, type Recording } from './subscription-client.js';
import { scanOf, waitConnected } from './truth.js';

/**
 * `/metrics` on the gateway, every subgraph and the scheduler after queries, a refused query, a
 * subscription, a scan and refused webhook deliveries: the series count what was done; the Grafana
 * dashboard and the Prometheus alert rules use only series the services expose.
 */

let t: TestStack;
let simulator: Simulator;
let instanceId = '';
let subscription: Recording<{ detectionRaised: { cursor: string } }>;
const TOKEN = 'metrics-token-0123456789';

/** One sample of the Prometheus text format. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A scrape: its samples, and every series name it declares (`# TYPE`, histograms' `_bucket`, `_sum`, `_count` included). */
interface Scrape {
  readonly text: string;
  readonly samples: readonly Sample[];
  readonly names: ReadonlySet<string>;
  /** The one sample of `name` whose labels include `labels`; undefined when none. */
  value(name: string, labels?: Record<string, string>): number | undefined;
}

function parseExposition(text: string): Scrape {
  const samples: Sample[] = [];
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name!);
      if (kind === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[key!] = value!;
    samples.push({ name: sample[1]!, labels, value: Number(sample[3]) });
  }
  const matching = (name: string, labels: Record<string, string> = {}) =>
    samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return {
    text,
    samples,
    names,
    value: (name, labels) => {
      const found = matching(name, labels);
      if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
      return found[0]?.value;
    },
  };
}

async function scrape(url: string): Promise<Scrape> {
  // No Authorization header: Prometheus scrapes without a token.
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return parseExposition(await response.text());
}

const gatewayMetrics = () => scrape(t.url.replace(/\/graphql$/, '/metrics'));
const subgraphMetrics = (name: string) => scrape(t.stack.subgraphs[name]!.url.replace(/\/graphql$/, '/metrics'));
const schedulerMetrics = () => scrape(t.stack.scheduler!.webhookUrl.replace(/\/webhooks$/, '/metrics'));

beforeAll(async () => {
  t = await startTestStack({ AUDIT_LAG_SECONDS: '1', AUDIT_OVERLAP_SECONDS: '120', BACKFILL_DAYS: '2' }, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'metrics',
        token: TOKEN,
        seed: 5,
        users: 8,
        groups: 1,
        files: 3,
        grants: 2,
        backfillDays: 1,
        backfillEventsPerUserPerDay: 2,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
      },
    ],
  });
  await t.query(
    `mutation { createPolicy(input: { name: "logins", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
  );
  // The subscription first: the detections the scan raises reach it through the gateway.
  subscription = record(connect(t.url, t.token('analyst')), 'subscription Detections { detectionRaised { cursor } }');
  await waitFor('the upstream subscription on the activities subgraph', async () =>
    t.stack.subgraphs.activities!.stats().webSockets > 0 ? true : undefined,
  );
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    'mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "metrics", config: $config }) { id } }',
    { config: { endpoint: simulator.url, token: TOKEN, rateLimitPerMinute: 6000 } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 90_000);
  await subscription.received(1);
}, 150_000);

afterAll(async () => {
  await disposeClients();
  await t?.stop();
  await simulator?.stop();
});

describe('/metrics', () => {
  it('counts the gateway requests by operation, errors by code, and the live subscription', async () => {
    const before = await gatewayMetrics();
    const forbiddenBefore = before.value('tenantwatch_graphql_errors_total', { code: 'FORBIDDEN' }) ?? 0;
    for (let i = 0; i < 3; i++) await t.query(`query MetricsProbe { appInstance(id: "${instanceId}") { id name } }`);
    const refused = await t.request(
      `mutation RefusedPolicy { createPolicy(input: { name: "p", kind: ACTIVITY, severity: LOW, condition: { action: "user.login" } }) { id } }`,
      undefined,
      t.token('viewer'),
    );
    expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const received = subscription.events.length;
    const after = await gatewayMetrics();
    const stats = t.stack.gateway.subscriptions.stats();
    const probe = { service: 'gateway', operation: 'MetricsProbe', type: 'query' };
    expect(after.value('tenantwatch_graphql_requests_total', probe)).toBe(3);
    expect(after.value('tenantwatch_graphql_request_duration_seconds_count', probe)).toBe(3);
    expect(after.value('tenantwatch_graphql_request_duration_seconds_bucket', { ...probe, le: '+Inf' })).toBe(3);
    expect(after.value('tenantwatch_graphql_requests_total', { operation: 'RefusedPolicy', type: 'mutation' })).toBe(1);
    expect(after.value('tenantwatch_graphql_errors_total', { code: 'FORBIDDEN' })).toBe(forbiddenBefore + 1);

    expect(after.value('tenantwatch_gateway_websockets')).toBe(1);
    expect(after.value('tenantwatch_gateway_subscriptions')).toBe(1);
    expect(after.value('tenantwatch_gateway_upstreams')).toBe(1);
    // Read after the scrape: events may have come meanwhile.
    expect(after.value('tenantwatch_gateway_events_delivered_total')).toBeGreaterThanOrEqual(received);
    expect(after.value('tenantwatch_gateway_events_delivered_total')).toBeLessThanOrEqual(stats.eventsDelivered);
    expect(after.value('tenantwatch_gateway_upstream_events_total')).toBeGreaterThan(0);
    expect(after.value('tenantwatch_gateway_upstream_events_total')).toBeLessThanOrEqual(stats.eventsReceived);
    expect(after.value('tenantwatch_gateway_too_slow_subscribers_total')).toBe(0);
    // Default process metrics, and nothing secret.
    expect(after.value('tenantwatch_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(after.text).not.toContain(TEST_JWT_SECRET);
    expect(after.text).not.toContain(TOKEN);
  });

  it('counts each subgraph’s requests (the gateway’s fetches) by operation, and the activities subgraph’s websockets', async () => {
    for (const name of Object.keys(t.stack.subgraphs)) {
      const metrics = await subgraphMetrics(name);
      const requests = metrics.samples.filter((s) => s.name === 'tenantwatch_graphql_requests_total');
      expect(requests.every((s) => s.labels.service === name)).toBe(true);
      if (name === 'accounts') {
        // The gateway names its fetch after the client's operation.
        const probe = requests.filter((s) => s.labels.operation?.startsWith('MetricsProbe__accounts'));
        expect(probe.reduce((sum, s) => sum + s.value, 0)).toBe(3);
      }
      if (name === 'activities') {
        expect(metrics.value('tenantwatch_subgraph_websockets')).toBe(1);
        // The gateway's one upstream, live (not replaying), and how far behind the log it and the live reader are.
        expect(metrics.value('tenantwatch_event_stream_subscribers')).toBe(1);
        expect(metrics.value('tenantwatch_event_stream_replaying')).toBe(0);
        expect(metrics.value('tenantwatch_event_stream_replay_behind_events')).toBe(0);
        expect(metrics.value('tenantwatch_event_stream_behind_events')).toBeGreaterThanOrEqual(0);
        expect(metrics.value('tenantwatch_event_stream_waiting_events')).toBeGreaterThanOrEqual(0);
      }
      expect(metrics.text).not.toContain(TEST_JWT_SECRET);
    }
  });

  it('shows the scan, the provider requests, the budget, the jobs and the event log on the scheduler', async () => {
    const users = await scanOf(t, instanceId, 'USERS');
    const metrics = await schedulerMetrics();
    const id = { instance_id: instanceId };
    expect(users.itemsScanned).toBe(8);
    expect(metrics.value('tenantwatch_scan_items', { ...id, kind: 'USERS' })).toBe(users.itemsScanned);
    expect(metrics.value('tenantwatch_scan_items_read_total', { ...id, kind: 'USERS' })).toBeGreaterThanOrEqual(users.itemsScanned);
    expect(metrics.value('tenantwatch_scan_state', { ...id, kind: 'USERS', state: users.state })).toBe(1);
    expect(metrics.value('tenantwatch_scan_progress_ratio', { ...id, kind: 'USERS' })).toBe(1);
    expect(metrics.value('tenantwatch_scan_last_completed_timestamp_seconds', { ...id, kind: 'USERS' })).toBe(
      Date.parse(users.lastCompletedAt!) / 1000,
    );
    expect(metrics.value('tenantwatch_provider_requests_total', { ...id, status: '200' })).toBeGreaterThan(0);
    const level = metrics.value('tenantwatch_budget_level_ratio', { ...id, service: 'default' });
    expect(level).toBeGreaterThan(-1);
    expect(level).toBeLessThanOrEqual(1);
    expect(metrics.value('tenantwatch_budget_blocked_seconds', { ...id, service: 'default' })).toBe(0);
    // Periodic scan jobs of the instance are in the store; nothing failed.
    expect(metrics.samples.some((s) => s.name === 'tenantwatch_jobs' && s.labels.job === 'scan.users')).toBe(true);
    expect(metrics.samples.filter((s) => s.name === 'tenantwatch_jobs_failed_total')).toEqual([]);
    // Detections were committed: the newest is seconds old, not more than the test has run.
    const lag = metrics.value('tenantwatch_event_log_lag_seconds')!;
    expect(lag).toBeGreaterThanOrEqual(0);
    expect(lag).toBeLessThan(300);
    expect(metrics.text).not.toContain(TOKEN);
  });

  it('counts refused webhook deliveries by their code', async () => {
    const webhooks = t.stack.scheduler!.webhookUrl;
    const unsigned = await fetch(`${webhooks}/${instanceId}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(unsigned.status).toBe(401);
    const unknown = await fetch(`${webhooks}/00000000-0000-4000-8000-000000000000`, { method: 'POST', body: '{}' });
    expect(unknown.status).toBe(404);
    const metrics = await schedulerMetrics();
    expect(metrics.value('tenantwatch_webhook_deliveries_total', { result: 'refused', reason: 'unverified_delivery' })).toBe(1);
    expect(metrics.value('tenantwatch_webhook_deliveries_total', { result: 'refused', reason: 'unknown_instance' })).toBe(1);
  });

  it('the dashboard and the alert rules use only series the services expose', async () => {
    const exposed = new Set<string>();
    const scrapes = [
      await gatewayMetrics(),
      await schedulerMetrics(),
      ...(await Promise.all(Object.keys(t.stack.subgraphs).map(subgraphMetrics))),
    ];
    for (const s of scrapes) for (const name of s.names) exposed.add(name);
    const used = (text: string) => [...text.matchAll(/tenantwatch_[a-z0-9_]+/g)].map((m) => m[0]);

    const alerts = parseYaml(fs.readFileSync('deploy/prometheus/alerts.yml', 'utf8')) as {
      groups: {
        name: string;
        rules: { alert: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }[];
      }[];
    };
    const rules = alerts.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert).sort()).toEqual(
      expect.arrayContaining([
        'TenantwatchScanStalled',
        'TenantwatchInstanceThrottled',
        'TenantwatchEventLogLagGrowing',
        'TenantwatchSubscribersTooSlow',
        'TenantwatchJobsFailing',
      ]),
    );
    for (const rule of rules) {
      expect(rule.expr, rule.alert).toBeTruthy();
      expect(rule.labels?.severity, rule.alert).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary, rule.alert).toBeTruthy();
      const names = used(rule.expr);
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(exposed, `${rule.alert} uses ${name}`).toContain(name);
    }

    const dashboard = JSON.parse(fs.readFileSync('deploy/grafana/tenantwatch.json', 'utf8')) as {
      title: string;
      panels: { title: string; type: string; targets?: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((target) => ({ panel: p.title, expr: target.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    for (const { panel, expr } of exprs) for (const name of used(expr)) expect(exposed, `panel "${panel}" uses ${name}`).toContain(name);
  });

  /** promtool (the `prometheus` package) where it is installed: the rules and the scrape config as Prometheus reads them. */
  const promtool = (() => {
    try {
      execFileSync('promtool', ['--version'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();
  it.skipIf(!promtool)('promtool accepts the alert rules and the scrape config', () => {
    execFileSync('promtool', ['check', 'rules', 'deploy/prometheus/alerts.yml'], { stdio: 'pipe' });
    // The config names the rules at their path in the container.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-prometheus-'));
    try {
      const config = fs
        .readFileSync('deploy/prometheus/prometheus.yml', 'utf8')
        .replace('/etc/prometheus/alerts.yml', path.resolve('deploy/prometheus/alerts.yml'));
      fs.writeFileSync(path.join(dir, 'prometheus.yml'), config);
      execFileSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { stdio: 'pipe' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
