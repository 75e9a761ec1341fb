import { MongoBackend } from '@agendajs/mongo-backend';
import { PostgresBackend } from '@agendajs/postgres-backend';
import { Agenda, type AgendaBackend } from 'agenda';
import { logger } from '../subgraphs/shared/logger.js';

export interface AgendaOptions {
  /** MongoDB when set (production); otherwise PostgreSQL. */
  readonly mongodbUrl?: string;
  readonly databaseUrl: string;
  readonly name: string;
  readonly concurrency: number;
  /** How long a job stays locked without a touch before another scheduler may take it over. */
  readonly lockLifetimeMs: number;
  /** How often the job store is polled (notifications wake it sooner). */
  readonly processEveryMs?: number;
}

/** The job store: MongoDB (production) or PostgreSQL (embedded default). Connected before use. */
export async function createBackend(options: Pick<AgendaOptions, 'mongodbUrl' | 'databaseUrl'>): Promise<AgendaBackend> {
  const backend: AgendaBackend = options.mongodbUrl
    ? new MongoBackend({ address: options.mongodbUrl, collection: 'agendaJobs' })
    : new PostgresBackend({ connectionString: options.databaseUrl, tableName: 'agenda_jobs', poolConfig: { max: 5 } });
  // Agenda's constructor connects without handling errors: connect first so that failures throw here.
  await backend.connect();
  return backend;
}

/** An Agenda on the chosen backend with an error listener attached; not started. */
export async function createAgenda(options: AgendaOptions): Promise<Agenda> {
  const backend = await createBackend(options);
  const agenda = new Agenda({
    backend,
    name: options.name,
    defaultConcurrency: options.concurrency,
    maxConcurrency: options.concurrency,
    defaultLockLifetime: options.lockLifetimeMs,
    processEvery: options.processEveryMs ?? 1000,
  });
  agenda.on('error', (error) => logger.error({ err: error }, 'job store error'));
  return agenda;
}
