import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { freePort } from '../scripts/ports.js';
import { SUBGRAPHS } from '../subgraphs/index.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { GATEWAY_ONLY, GATEWAY_SECRET_HEADER, GATEWAY_SECRET_PARAM, signToken } from '../platform/auth.js';
import { loadConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { startSubgraph } from '../platform/subgraph.js';
import { freshDatabase, startTestStack, testConfig, TEST_JWT_SECRET, waitFor, type TestStack } from './harness.js';
import { connect, disposeClients, record, within } from './subscription-client.js';

// What production mode changes, and the wall between the gateway and the subgraphs: in process
// first (fast), then `npm start` itself as a child process with NODE_ENV=production (a few starts).

const ROOT = path.resolve(import.meta.dirname, '..');
const SHARED_SECRET = 'gateway-shared-secret-for-tests-0123456789';
const CREDENTIALS_KEY = 'ab'.repeat(32);
const READ = '{ appInstances { id } }';
const SDL = '{ _service { sdl } }';

interface Answer {
  readonly status: number;
  readonly data?: Record<string, unknown> | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** POSTs `query` to `url` with exactly `headers` (and a JSON content type). */
async function post(url: string, headers: Record<string, string>, query: string): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** A token the verifiers would accept but for its missing `exp`. */
const withoutExpiry = (role = 'admin') =>
  new SignJWT({ roles: [role] })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('forever')
    .setIssuer('tenantwatch')
    .setAudience('tenantwatch-api')
    .setIssuedAt()
    .sign(new TextEncoder().encode(TEST_JWT_SECRET));

describe('with GATEWAY_SHARED_SECRET', () => {
  let t: TestStack;
  let subgraphUrls: string[];
  let activitiesUrl: string;

  beforeAll(async () => {
    t = await startTestStack({ GATEWAY_SHARED_SECRET: SHARED_SECRET });
    subgraphUrls = Object.values(t.stack.subgraphs).map((s) => s.url);
    activitiesUrl = t.stack.subgraphs.activities!.url;
  });
  afterEach(() => disposeClients());
  afterAll(() => t?.stop());

  it('refuses a token without exp, at the gateway and at a subgraph, saying it must carry an expiry', async () => {
    const token = await withoutExpiry();
    const atGateway = await post(t.url, bearer(token), READ);
    expect(atGateway.status).toBe(401);
    expect(atGateway.errors).toMatchObject([
      { extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/must carry an expiry/) },
    ]);
    for (const url of subgraphUrls) {
      const atSubgraph = await post(url, { ...bearer(token), [GATEWAY_SECRET_HEADER]: SHARED_SECRET }, READ);
      expect(atSubgraph.status).toBe(401);
      expect(atSubgraph.errors).toMatchObject([
        { extensions: { code: 'UNAUTHENTICATED' }, message: expect.stringMatching(/must carry an expiry/) },
      ]);
    }
  });

  it('makes every subgraph refuse a valid token without the secret, or with a wrong one, before running anything', async () => {
    for (const url of subgraphUrls) {
      for (const headers of [bearer(t.token('admin')), { ...bearer(t.token('admin')), [GATEWAY_SECRET_HEADER]: `${SHARED_SECRET}-not` }]) {
        const answer = await post(url, headers, READ);
        expect(answer).toEqual({ status: 401, errors: [{ message: GATEWAY_ONLY, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
    }
  });

  it('answers `_service { sdl }` only with the secret', async () => {
    for (const url of subgraphUrls) {
      expect((await post(url, bearer(t.token('viewer')), SDL)).status).toBe(401);
      const answer = await post(url, { ...bearer(t.token('viewer')), [GATEWAY_SECRET_HEADER]: SHARED_SECRET }, SDL);
      expect(answer.errors).toBeUndefined();
      expect((answer.data?._service as { sdl: string }).sdl).toMatch(/type Query/);
    }
  });

  it('closes a subgraph websocket without the secret with 4401, and opens one with it', async () => {
    const subscription = 'subscription { detectionRaised(after: "0") { cursor } }';
    const refused = record(connect(activitiesUrl, t.token('analyst')), subscription);
    expect((await refused.ended).close).toEqual({ code: 4401, reason: GATEWAY_ONLY });
    const wrong = connect(activitiesUrl, null, {
      connectionParams: { ...bearer(t.token('analyst')), [GATEWAY_SECRET_PARAM]: `${SHARED_SECRET}-not` },
    });
    expect((await record(wrong, subscription).ended).close).toEqual({ code: 4401, reason: GATEWAY_ONLY });
    const acknowledged = new Promise<true>((resolve) => {
      const client = connect(activitiesUrl, null, {
        connectionParams: { ...bearer(t.token('analyst')), [GATEWAY_SECRET_PARAM]: SHARED_SECRET },
        on: { connected: () => resolve(true) },
      });
      record(client, subscription);
    });
    expect(await within(acknowledged, 10_000, 'connection_ack')).toBe(true);
  });

  it('serves everything through the gateway: queries across the subgraphs and subscriptions', async () => {
    const instanceId = await t.fixtures.instance('Secret org');
    const policyId = await t.fixtures.policy({ name: 'Any', kind: PolicyKind.ACTIVITY, severity: Severity.HIGH, condition: {} });
    const stream = record<{ detectionRaised: { detection: { title: string; instance: { name: string } } } }>(
      connect(t.url, t.token('analyst')),
      'subscription { detectionRaised(after: "0") { detection { title instance { name } } } }',
    );
    await t.fixtures.detection({ policyId, instanceId, severity: Severity.HIGH, title: 'Seen through the gateway', description: 'd' });
    const [event] = await within(stream.received(1), 20_000, 'the detection through the gateway');
    expect(event!.detectionRaised.detection).toEqual({ title: 'Seen through the gateway', instance: { name: 'Secret org' } });
    const answer = await t.request(
      '{ appInstances { id } accounts { totalCount } activities { totalCount } files { totalCount } appPermissions { totalCount } detections { totalCount } }',
    );
    expect(answer.errors).toBeUndefined();
    expect(answer.data).toMatchObject({ detections: { totalCount: 1 } });
  });
});

describe('a subgraph in production without GATEWAY_SHARED_SECRET', () => {
  it('warns that it answers any valid token, refuses `_service { sdl }`, and hides database errors from /readyz', async () => {
    const database = await freshDatabase();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-prod-subgraph-'));
    const warn = vi.spyOn(logger, 'warn');
    const config = testConfig(dataDir, { NODE_ENV: 'production', CREDENTIALS_KEY });
    const server = await startSubgraph(
      SUBGRAPHS.find((s) => s.name === 'files')!,
      { config, databaseUrl: database.url, port: 0 },
    );
    try {
      expect(warn).toHaveBeenCalledWith(
        { subgraph: 'files' },
        expect.stringMatching(/GATEWAY_SHARED_SECRET is not set: this subgraph answers any valid token/),
      );
      const token = await signToken(config, { role: 'admin' });
      expect((await post(server.url, bearer(token), '{ files { totalCount } }')).errors).toBeUndefined();
      const sdl = await post(server.url, bearer(token), `query Schema { ... on Query { _service { sdl } } }`);
      expect(sdl.data).toBeUndefined();
      expect(sdl.errors?.[0]?.message).toMatch(/"_service" \(the subgraph's schema\) is answered only to the gateway/);
      await database.drop();
      const readyz = await fetch(new URL('/readyz', server.url));
      expect(readyz.status).toBe(503);
      expect(await readyz.json()).toEqual({ status: 'unready', subgraph: 'files', database: 'unavailable' });
    } finally {
      warn.mockRestore();
      await server.stop();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The real entry points, as an operator runs them with NODE_ENV=production.

const running = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(async () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

interface Child {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

/** Runs `command` in the project as its own process group, with only PATH, HOME and `env`. */
function run(command: string, args: readonly string[], env: Record<string, string>): Child {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? os.homedir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (running.delete(child), resolve(code))));
  return { child, output: () => output, exited };
}

/** Stops an `npm start` as Ctrl-C does and waits for its whole process group to be gone. */
async function stop(started: Child): Promise<void> {
  signalGroup(started.child, 'SIGINT');
  await started.exited;
  await waitFor(
    'every process of the group to exit',
    async () => {
      try {
        process.kill(-started.child.pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    },
    20_000,
  );
}

const productionEnv = (dataDir: string, port: number, extra: Record<string, string> = {}) => ({
  NODE_ENV: 'production',
  DATA_DIR: dataDir,
  PORT: String(port),
  LOG_LEVEL: 'info',
  ...extra,
});
const SECRETS = { AUTH_JWT_SECRET: TEST_JWT_SECRET, CREDENTIALS_KEY };

/** The machine's first non-loopback IPv4 address, if it has one: what the rest of the network would connect to. */
const outsideAddress = Object.values(os.networkInterfaces())
  .flat()
  .find((address) => address && address.family === 'IPv4' && !address.internal)?.address;

/** True when `http://<host>:<port>/` accepts a connection. */
const answersOn = (host: string, port: number) =>
  fetch(`http://${host}:${port}/healthz`, { signal: AbortSignal.timeout(3_000) }).then(
    () => true,
    () => false,
  );

/** Starts `npm start` with NODE_ENV=production and waits until it printed that it is ready. */
async function startProduction(extra: Record<string, string> = {}): Promise<Child & { port: number }> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-production-'));
  dirs.push(dataDir);
  const port = await freePort();
  const started = run('npm', ['start'], productionEnv(dataDir, port, { ...SECRETS, ...extra }));
  await waitFor(
    'npm start to be ready',
    async () => {
      if (started.child.exitCode !== null) throw new Error(`npm start exited ${started.child.exitCode}:\n${started.output()}`);
      return /Tenantwatch is ready in/.test(started.output()) ? true : undefined;
    },
    120_000,
  );
  return { ...started, port };
}

/** The subgraphs' URLs, from their "subgraph listening" log lines. */
const subgraphUrlsIn = (output: string) =>
  output
    .split('\n')
    .filter((line) => line.includes('"subgraph listening"'))
    .map((line) => (JSON.parse(line) as { url: string }).url);

describe('production entry points', { timeout: 180_000 }, () => {
  it('npm start without secrets exits 1 naming both, having created, opened and listened on nothing', async () => {
    const dataDir = path.join(os.tmpdir(), `tenantwatch-never-${randomBytes(6).toString('hex')}`);
    dirs.push(dataDir);
    const port = await freePort();
    const started = run('npm', ['start'], productionEnv(dataDir, port));
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/AUTH_JWT_SECRET and CREDENTIALS_KEY must be set in production/);
    expect(started.output()).not.toMatch(/listening/);
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('every other entry point exits 1 in production naming the secrets it needs', async () => {
    const dataDir = path.join(os.tmpdir(), `tenantwatch-never-${randomBytes(6).toString('hex')}`);
    dirs.push(dataDir);
    const node = (script: string, ...args: string[]) =>
      run(process.execPath, ['--import', '@swc-node/register/esm-register', script, ...args], {
        ...productionEnv(dataDir, 0),
        // Unreachable on purpose: the secrets are checked before anything is opened.
        DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none',
        ACCOUNTS_URL: 'http://127.0.0.1:1/graphql',
        ACTIVITIES_URL: 'http://127.0.0.1:1/graphql',
        FILES_URL: 'http://127.0.0.1:1/graphql',
        APP_PERMISSIONS_URL: 'http://127.0.0.1:1/graphql',
      });
    const cases = [
      [node('subgraphs/serve.ts', 'accounts'), /AUTH_JWT_SECRET and CREDENTIALS_KEY must be set in production/],
      [node('gateway/index.ts'), /AUTH_JWT_SECRET must be set in production/],
      [node('scheduler/index.ts'), /CREDENTIALS_KEY must be set in production/],
      [node('scripts/token.ts', '--role', 'admin'), /AUTH_JWT_SECRET must be set in production/],
    ] as const;
    for (const [started, message] of cases) {
      expect(await started.exited).toBe(1);
      expect(started.output()).toMatch(message);
      expect(started.output()).not.toMatch(/eyJ|listening/);
    }
    expect(fs.existsSync(dataDir)).toBe(false);
  });

  it('npm start with secrets prints no token, runs no demo, and keeps the subgraphs on loopback, answering only its gateway', async () => {
    const started = await startProduction();
    try {
      const output = started.output();
      expect(output).not.toMatch(/eyJ/);
      expect(output).toMatch(/npm run -s token -- --role viewer --expires 1h/);
      expect(output).not.toMatch(/demo: simulated provider/);

      const token = await signToken(loadConfig(SECRETS), { role: 'admin', expiresIn: '5m' });
      const answer = await post(`http://127.0.0.1:${started.port}/graphql`, bearer(token), READ);
      expect(answer).toEqual({ status: 200, data: { appInstances: [] } });

      const urls = subgraphUrlsIn(output);
      expect(urls).toHaveLength(4);
      for (const url of urls) {
        const { hostname, port } = new URL(url);
        expect(hostname).toBe('127.0.0.1');
        expect(await answersOn('127.0.0.1', Number(port))).toBe(true);
        if (outsideAddress) expect(await answersOn(outsideAddress, Number(port))).toBe(false);
        // The gateway and the subgraphs share a secret made for this start.
        expect((await post(url, bearer(token), READ)).errors).toEqual([{ message: GATEWAY_ONLY, extensions: { code: 'UNAUTHENTICATED' } }]);
      }
    } finally {
      await stop(started);
    }
  });

  it('npm start with DEMO=on runs the simulator on loopback with webhook secrets and tokens made for this start', async () => {
    const started = await startProduction({ DEMO: 'on', CONNECTOR_ALLOW_PRIVATE: 'true' });
    try {
      expect(started.output()).not.toMatch(/eyJ/);
      const simulator = /demo: simulated provider at (http:\/\/\S+) /.exec(started.output())?.[1];
      expect(simulator).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      if (outsideAddress) expect(await answersOn(outsideAddress, Number(new URL(simulator!).port))).toBe(false);
      for (const id of ['acme', 'globex']) {
        const spec = (await (await fetch(`${simulator}/admin/tenants/${id}`)).json()) as { token: string; webhook?: { secret: string } };
        expect(spec.webhook?.secret).toBeDefined();
        expect(spec.webhook!.secret).not.toBe(`demo-webhook-secret-${id}`);
        expect(spec.webhook!.secret.length).toBeGreaterThanOrEqual(40);
        expect(spec.token).not.toMatch(/demo-token/);
      }
    } finally {
      await stop(started);
    }
  });
});
