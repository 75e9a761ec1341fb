import { Entity, PrimaryKey, Property } from '@mikro-orm/postgresql';

/**
 * One instance's webhook deliveries in the current minute, written by rate-limiter-flexible's
 * RateLimiterPostgres (its table shape: `key`, `points`, `expire` in epoch ms).
 */
@Entity({ tableName: 'webhook_rate' })
export class WebhookRateRow {
  @PrimaryKey({ type: 'varchar', length: 255 })
  key!: string;

  @Property({ type: 'integer', default: 0 })
  points!: number;

  @Property({ type: 'bigint', nullable: true })
  expire: string | null = null;
}
