import pg from 'pg';

/**
 * Runs `work` while holding a PostgreSQL advisory lock named `key` on a connection of its own, so
 * that two scheduler processes never run the same instance and kind at once (whatever job store
 * Agenda uses). Answers `{ ran: false }` at once when another holder has it. The lock dies with
 * the connection, so a killed scheduler never leaves it behind.
 */
export async function withAdvisoryLock<T>(
  pool: pg.Pool,
  key: string,
  work: () => Promise<T>,
): Promise<{ ran: true; value: T } | { ran: false }> {
  const client = await pool.connect();
  // A held client's connection errors are emitted on it, not on the pool.
  const onError = () => undefined;
  client.on('error', onError);
  try {
    const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock(hashtextextended($1, 0)) as locked', [key]);
    if (!rows[0]?.locked) return { ran: false };
    try {
      return { ran: true, value: await work() };
    } finally {
      await client.query('select pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
    }
  } finally {
    client.off('error', onError);
    client.release();
  }
}
