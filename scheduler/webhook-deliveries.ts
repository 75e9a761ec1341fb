import type pg from 'pg';

const TABLE = 'scheduler.webhook_delivery';

/**
 * How long past its signature's expiry a delivery id is still remembered. The connector decides
 * "still valid" on its process's clock, the table on PostgreSQL's: the margin covers the skew
 * between them, so no scheduler accepts a signature the table has already forgotten.
 */
export const CLOCK_SKEW_MARGIN_MS = 60_000;

/** Expired rows one prune deletes at most, so that a prune never holds locks for long. */
const PRUNE_BATCH = 1_000;

/**
 * The webhook delivery ids seen per instance, in PostgreSQL so that every scheduler process on the
 * cluster refuses a replay another one accepted. An id is remembered until its signature expires
 * (plus {@link CLOCK_SKEW_MARGIN_MS}); after that a replay no longer verifies anyway.
 */
export class WebhookDeliveries {
  constructor(private readonly pool: pg.Pool) {}

  /**
   * Records a verified delivery; answers false when the instance already has this id and it has not
   * expired (a replay). One statement: of two schedulers receiving the same delivery at once,
   * exactly one is answered true. An expired entry of the same id is taken over (the provider
   * re-signed it, so it is no replay of the old signature).
   */
  async remember(instanceId: string, deliveryId: string, expiresAt: Date): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `insert into ${TABLE} as d (instance_id, delivery_id, expires_at)
       values ($1, $2, $3::timestamptz + make_interval(secs => $4))
       on conflict (instance_id, delivery_id) do update
          set expires_at = excluded.expires_at, received_at = clock_timestamp()
        where d.expires_at <= clock_timestamp()
       returning 1`,
      [instanceId, deliveryId, expiresAt, CLOCK_SKEW_MARGIN_MS / 1000],
    );
    return rowCount === 1;
  }

  /**
   * Forgets a delivery whose notices could not be enqueued, so that the provider's retry of it
   * (same id) is accepted rather than refused as a replay.
   */
  async forget(instanceId: string, deliveryId: string): Promise<void> {
    await this.pool.query(`delete from ${TABLE} where instance_id = $1 and delivery_id = $2`, [instanceId, deliveryId]);
  }

  /** Deletes up to {@link PRUNE_BATCH} expired entries; answers how many went. */
  async prune(): Promise<number> {
    const { rowCount } = await this.pool.query(
      `delete from ${TABLE} where ctid = any(array(
         select ctid from ${TABLE} where expires_at <= clock_timestamp() limit ${PRUNE_BATCH}))`,
    );
    return rowCount ?? 0;
  }
}
