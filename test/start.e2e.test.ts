import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { embeddedDatabaseUrl, runningEmbeddedPort } from '../scripts/embedded-postgres.js';
import { freePort } from '../scripts/ports.js';
import { graphql } from './harness.js';
import { isAlive, ROOT, runCommand } from './processes.js';
import { connect, disposeClients, record } from './subscription-client.js';

const running = new Set<ChildProcess>();
const dirs: string[] = [];

afterAll(async () => {
  for (const child of running) signalGroup(child, 'SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Resolves when no process of the child's group is left (Tenantwatch, npm, PostgreSQL), or rejects after 20 s. */
function groupGone(child: ChildProcess): Promise<true> {
  return waitFor(
    'every process of the group to exit',
    async () => {
      try {
        process.kill(-child.pid!, 0);
        return undefined;
      } catch {
        return true;
      }
    },
    20_000,
  );
}

/** Sends `signal` to the child's whole process group, as a terminal's Ctrl-C does. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // already gone
  }
}

interface Started {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly port: number;
}

/** Runs `npm start` as a newcomer would: no environment but DATA_DIR and PORT. */
function npmStart(env: Record<string, string>): Started & { exited: Promise<number | null> } {
  const child = spawn('npm', ['start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: process.env.HOME ?? os.homedir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so that a signal reaches npm and Tenantwatch together, as Ctrl-C does.
    detached: true,
  });
  running.add(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => (running.delete(child), resolve(code))));
  return { child, output: () => output, port: Number(env.PORT), exited };
}

/** Runs an npm script as an operator would, to its end. */
const npmRun = (args: string[], env: Record<string, string>) => runCommand('npm', args, { LOG_LEVEL: 'warn', ...env });

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, deadlineMs: number, started?: Started): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${started?.output() ?? ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ready = (started: Started) =>
  waitFor(
    'readyz',
    async () => {
      const response = await fetch(`http://127.0.0.1:${started.port}/readyz`, { signal: AbortSignal.timeout(2_000) });
      return response.ok ? true : undefined;
    },
    60_000,
    started,
  );

const printedToken = (started: Started, role: string) => new RegExp(`^\\s+${role}\\s+(eyJ\\S+)$`, 'm').exec(started.output())?.[1];

function postmasterPid(dataDir: string): number | undefined {
  const file = path.join(dataDir, 'postgres', 'postmaster.pid');
  return fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8').split('\n')[0]) : undefined;
}

describe('npm start', { timeout: 180_000 }, () => {
  it('starts on a fresh data dir, prints tokens and a working curl line, keeps data across restarts, and stops cleanly on Ctrl-C', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-start-'));
    dirs.push(dataDir);
    const first = npmStart({ DATA_DIR: dataDir, PORT: String(await freePort()), DEMO: 'off' });
    await ready(first);
    await waitFor('the printed tokens', async () => printedToken(first, 'viewer'), 10_000, first);
    expect(first.output()).toMatch(/Tenantwatch is ready in \d+\.\d s at http:\/\/localhost:\d+\/graphql/);
    // The console's address comes first.
    expect(first.output()).toMatch(
      /\nConsole: http:\/\/localhost:\d+\/ \(open it in a browser; GraphiQL at http:\/\/localhost:\d+\/graphql\)\nTenantwatch is ready/,
    );
    expect(first.output()).toMatch(/curl -s http:\/\/localhost:\d+\/graphql/);
    const admin = printedToken(first, 'admin')!;
    const url = `http://127.0.0.1:${first.port}/graphql`;
    const connected = await graphql<{ connectApp: { id: string } }>(
      url,
      admin,
      'mutation { connectApp(input: { provider: "simulated", name: "Kept", config: { endpoint: "http://127.0.0.1:9/api", token: "s" } }) { id } }',
    );
    expect(connected.errors).toBeUndefined();

    // Durable: the embedded PostgreSQL behind npm start commits to disk.
    const postgres = new pg.Client({
      connectionString: embeddedDatabaseUrl(runningEmbeddedPort(path.join(dataDir, 'postgres'))!, 'tenantwatch'),
    });
    await postgres.connect();
    try {
      for (const setting of ['fsync', 'synchronous_commit', 'full_page_writes'])
        expect((await postgres.query<{ value: string }>(`select current_setting($1) as value`, [setting])).rows[0]!.value, setting).toBe(
          'on',
        );
    } finally {
      await postgres.end();
    }
    // A backup while it runs (one snapshot); a restore must wait until it is stopped.
    const backupFile = path.join(dataDir, 'kept.backup.gz');
    const backup = await npmRun(['run', 'backup', '--', '--out', backupFile], { DATA_DIR: dataDir });
    expect(backup.output).toMatch(/Backup written to/);
    expect(backup.code).toBe(0);
    const whileRunning = await npmRun(['run', 'restore', '--', backupFile], { DATA_DIR: dataDir });
    expect(whileRunning.output).toMatch(/Tenantwatch is running on this DATA_DIR/);
    expect(whileRunning.code).toBe(2);

    const pid = postmasterPid(dataDir)!;
    expect(isAlive(pid)).toBe(true);
    signalGroup(first.child, 'SIGINT');
    await groupGone(first.child);
    expect(isAlive(pid)).toBe(false);
    expect(first.output()).toMatch(/stopping Tenantwatch/);
    // Stopped: the backup replaces the data (the embedded PostgreSQL started and stopped for it).
    const restored = await npmRun(['run', 'restore', '--', backupFile, '--replace'], { DATA_DIR: dataDir });
    expect(restored.output).toMatch(/Restored .*kept\.backup\.gz/);
    expect(restored.code).toBe(0);

    // The same data dir again: the instance is still there, and the old tokens still work.
    const second = npmStart({ DATA_DIR: dataDir, PORT: String(await freePort()), DEMO: 'off' });
    await ready(second);
    const answer = await graphql<{ appInstances: { id: string; name: string }[] }>(
      `http://127.0.0.1:${second.port}/graphql`,
      admin,
      '{ appInstances { id name } }',
    );
    expect(answer.data?.appInstances).toEqual([{ id: connected.data!.connectApp.id, name: 'Kept' }]);
    signalGroup(second.child, 'SIGTERM');
    await groupGone(second.child);
  });

  it('runs two stacks side by side with different DATA_DIR and PORT', async () => {
    const starts = await Promise.all(
      [0, 1].map(async () => {
        const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-side-'));
        dirs.push(dataDir);
        return npmStart({ DATA_DIR: dataDir, PORT: String(await freePort()) });
      }),
    );
    await Promise.all(starts.map(ready));
    for (const started of starts) {
      const token = await waitFor('token', async () => printedToken(started, 'viewer'), 10_000, started);
      const answer = await graphql(`http://127.0.0.1:${started.port}/graphql`, token, '{ appInstances { id } }');
      expect(answer.errors).toBeUndefined();
      signalGroup(started.child, 'SIGINT');
    }
    await Promise.all(starts.map((s) => groupGone(s.child)));
  });

  it('lets a responder suspend a demo account through the gateway while a subscriber sees the result', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-demo-'));
    dirs.push(dataDir);
    const started = npmStart({ DATA_DIR: dataDir, PORT: String(await freePort()) });
    try {
      await ready(started);
      const responder = await waitFor('the printed tokens', async () => printedToken(started, 'responder'), 10_000, started);
      const analyst = printedToken(started, 'analyst')!;
      const url = `http://127.0.0.1:${started.port}/graphql`;
      const target = await waitFor(
        'a demo account scanned',
        async () => {
          const answer = await graphql<{ accounts: { edges: { node: { id: string; email: string } }[] } }>(
            url,
            responder,
            '{ accounts(filter: { status: ACTIVE, isAdmin: false }, first: 1) { edges { node { id email } } } }',
          );
          return answer.data?.accounts.edges[0]?.node;
        },
        90_000,
        started,
      );
      const subscriber = connect(url, analyst);
      const results = record<{ governanceResult: { action: { id: string; status: string; account: { email: string } } } }>(
        subscriber,
        'subscription { governanceResult(filter: { type: SUSPEND_ACCOUNT }, after: "0") { cursor action { id status account { email } } } }',
      );
      const answer = await graphql<{ suspendAccount: { id: string; status: string } }>(
        url,
        responder,
        `mutation { suspendAccount(input: { targetId: "${target.id}", reason: "demo" }) { id status } }`,
      );
      expect(answer.errors).toBeUndefined();
      const [event] = await results.received(1);
      expect(event!.governanceResult.action).toEqual({
        id: answer.data!.suspendAccount.id,
        status: 'SUCCEEDED',
        account: { email: target.email },
      });
    } finally {
      await disposeClients();
      signalGroup(started.child, 'SIGINT');
      await groupGone(started.child);
    }
  });

  it('DEMO=google,salesforce connects the Google Workspace customer and the two Salesforce orgs, whose data the gateway answers', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-demo-emulators-'));
    dirs.push(dataDir);
    const started = npmStart({ DATA_DIR: dataDir, PORT: String(await freePort()), DEMO: 'google,salesforce' });
    try {
      await ready(started);
      const viewer = await waitFor('the printed tokens', async () => printedToken(started, 'viewer'), 10_000, started);
      const url = `http://127.0.0.1:${started.port}/graphql`;
      type Instance = { id: string; provider: string; name: string; status: string };
      const instances = await waitFor(
        'three demo instances CONNECTED',
        async () => {
          const answer = await graphql<{ appInstances: Instance[] }>(url, viewer, '{ appInstances { id provider name status } }');
          const all = answer.data?.appInstances ?? [];
          return all.length === 3 && all.every((i) => i.status === 'CONNECTED') ? all : undefined;
        },
        150_000,
        started,
      );
      expect(instances.map((i) => i.provider).sort()).toEqual(['google', 'salesforce', 'salesforce']);
      expect(
        instances
          .filter((i) => i.provider === 'salesforce')
          .map((i) => i.name)
          .sort(),
      ).toEqual(['Acme Marketing (Salesforce demo)', 'Acme Sales (Salesforce demo)']);
      for (const instance of instances) {
        const answer = await graphql<{ accounts: { totalCount: number }; files: { totalCount: number } }>(
          url,
          viewer,
          `{ accounts(filter: { instanceId: "${instance.id}" }, first: 1) { totalCount } files(filter: { instanceId: "${instance.id}" }, first: 1) { totalCount } }`,
        );
        expect(answer.errors).toBeUndefined();
        expect(answer.data!.accounts.totalCount, instance.name).toBeGreaterThan(0);
        expect(answer.data!.files.totalCount, instance.name).toBeGreaterThan(0);
      }
      expect(started.output()).toMatch(/Google Workspace emulator at https:\/\/127\.0\.0\.1:\d+/);
      expect(started.output()).toMatch(/Salesforce emulator at https:\/\/127\.0\.0\.1:\d+/);
    } finally {
      signalGroup(started.child, 'SIGINT');
      await groupGone(started.child);
    }
  });

  it('refuses an unknown DEMO with a message listing the demos', async () => {
    const started = npmStart({ DEMO: 'dropbox', DATA_DIR: path.join(os.tmpdir(), 'tenantwatch-never') });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(
      /DEMO: must be on, off, all, or one or more of simulated, m365, google, salesforce separated by commas \(not "dropbox"\)/,
    );
  });

  it('refuses a bad configuration value with a message naming it', async () => {
    const started = npmStart({ PORT: 'eighty', DATA_DIR: path.join(os.tmpdir(), 'tenantwatch-never') });
    expect(await started.exited).toBe(1);
    expect(started.output()).toMatch(/Invalid configuration:\n\s+PORT: /);
    expect(started.output()).not.toMatch(/\n\s+at /);
  });
});
