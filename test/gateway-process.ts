import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { freePort } from '../scripts/ports.js';
import { TEST_JWT_SECRET, waitFor, type TestStack } from './harness.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** A gateway running as its own process (`gateway/index.ts`); `output()` is what it printed. */
export type GatewayProcess = ChildProcess & { readonly url: string; readonly port: number; output(): string };

/**
 * Starts a gateway process in front of the test stack's subgraphs (on `port`, or a free one) and
 * resolves once its /readyz answers 200. Stop it with `kill` (SIGTERM drains, SIGKILL crashes).
 */
export async function startGatewayProcess(t: TestStack, port?: number): Promise<GatewayProcess> {
  const listen = port ?? (await freePort());
  const urls = Object.fromEntries(Object.values(t.stack.subgraphs).map((s) => [s.name, s.url]));
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', 'gateway/index.ts'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      PORT: String(listen),
      HOST: '127.0.0.1',
      DATA_DIR: t.config.dataDir,
      DATABASE_URL: t.stack.databaseUrl,
      AUTH_JWT_SECRET: TEST_JWT_SECRET,
      ACCOUNTS_URL: urls.accounts,
      ACTIVITIES_URL: urls.activities,
      FILES_URL: urls.files,
      APP_PERMISSIONS_URL: urls['app-permissions'],
      LOG_LEVEL: 'warn',
      // One test client opens many sockets and subscriptions from one address with one token.
      GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000',
      GATEWAY_WS_MAX_PENDING_PER_ADDRESS: '10000',
      GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: '10000',
      GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '100000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const gateway = Object.assign(child, { url: `http://127.0.0.1:${listen}/graphql`, port: listen, output: () => output });
  await waitFor(
    `gateway on ${listen} ready`,
    async () => {
      if (child.exitCode !== null) throw new Error(`gateway exited: ${output}`);
      const response = await fetch(`http://127.0.0.1:${listen}/readyz`).catch(() => undefined);
      return response?.ok ? true : undefined;
    },
    60_000,
  );
  return gateway;
}
