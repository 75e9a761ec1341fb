import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../scripts/embedded-postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The maintenance URL of the PostgreSQL the test run shares; each test file makes its own database. */
    postgresUrl: string;
  }
}

/** One embedded PostgreSQL for the whole run (or TEST_DATABASE_URL's server), stopped at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('postgresUrl', process.env.TEST_DATABASE_URL);
    return async () => {};
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-test-pg-'));
  // Throwaway data: fsync and synchronous commit off, for speed (npm start's server keeps both on).
  const postgres = await startEmbeddedPostgres(dir, { durable: false });
  project.provide('postgresUrl', postgres.url);
  return async () => {
    await postgres.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
