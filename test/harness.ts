import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { startStack, type Stack } from '../scripts/stack.js';
import { ROLES, signToken, type Role } from '../platform/auth.js';
import { loadConfig, type Config } from '../platform/config.js';
import { Fixtures } from './fixtures.js';

/** A secret every test stack signs and verifies tokens with. */
export const TEST_JWT_SECRET = 'tenantwatch-test-secret-0123456789abcdef';

/** A GraphQL answer as the client sees it, with the HTTP status. */
export interface GraphQLAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly data?: T | null;
  readonly errors?: readonly { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

/** Polls `probe` until it answers something other than undefined, or throws after `timeoutMs` naming `what`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** POSTs a GraphQL request; `token: null` sends no Authorization header. */
export async function graphql<T = Record<string, unknown>>(
  url: string,
  token: string | null,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLAnswer<T>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLAnswer<T>, 'status'>;
  return { status: response.status, ...body };
}

/** A whole stack on free ports over its own fresh database, with tokens, a client and fixtures. */
export interface TestStack {
  readonly stack: Stack;
  readonly config: Config;
  /** The gateway's /graphql URL. */
  readonly url: string;
  readonly fixtures: Fixtures;
  token(role: Role): string;
  /** Asks the gateway as `role` (default admin); throws if the answer has errors. */
  query<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, role?: Role): Promise<T>;
  /** Asks the gateway and returns the whole answer, errors included. */
  request<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string | null,
  ): Promise<GraphQLAnswer<T>>;
  stop(): Promise<void>;
}

/** The test configuration: a fixed JWT secret, a temp data dir, loopback only. */
export function testConfig(dataDir: string, extra: Record<string, string> = {}): Config {
  return loadConfig({
    DATA_DIR: dataDir,
    AUTH_JWT_SECRET: TEST_JWT_SECRET,
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    // Tests send many requests with one token, and bad tokens on purpose, from one address: the rate
    // limits are raised out of their way; the security tests set their own.
    GATEWAY_RATE_LIMIT_PER_MINUTE: '1000000',
    AUTH_FAILURES_PER_MINUTE: '1000000',
    GATEWAY_WS_MAX_PENDING_PER_ADDRESS: '10000',
    GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT: '10000',
    GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT: '100000',
    ...extra,
  });
}

/** Creates an empty database on the run's PostgreSQL and answers its URL and a drop function. */
export async function freshDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const admin = inject('postgresUrl');
  const name = `tw_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: admin });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await run(`create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`drop database if exists ${name} with (force)`) };
}

/** Starts the real stack (four subgraphs and the gateway on free ports, the scheduler if asked) on a fresh database. */
export async function startTestStack(
  extraConfig: Record<string, string> = {},
  options: { scheduler?: boolean; lockLifetimeMs?: number } = {},
): Promise<TestStack> {
  const database = await freshDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-test-'));
  const config = testConfig(dataDir, extraConfig);
  const stack = await startStack({
    config,
    databaseUrl: database.url,
    port: 0,
    scheduler: options.scheduler,
    lockLifetimeMs: options.lockLifetimeMs,
  });
  const tokens = Object.fromEntries(await Promise.all(ROLES.map(async (role) => [role, await signToken(config, { role })]))) as Record<
    Role,
    string
  >;
  const request = <T>(query: string, variables?: Record<string, unknown>, token: string | null = tokens.admin) =>
    graphql<T>(stack.gateway.url, token, query, variables);
  return {
    stack,
    config,
    url: stack.gateway.url,
    fixtures: new Fixtures(stack, config),
    token: (role) => tokens[role],
    request,
    query: async <T>(query: string, variables?: Record<string, unknown>, role: Role = 'admin') => {
      const answer = await request<T>(query, variables, tokens[role]);
      if (answer.errors?.length) throw new Error(`GraphQL errors: ${JSON.stringify(answer.errors)}`);
      return answer.data as T;
    },
    stop: async () => {
      await stack.stop();
      await database.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
