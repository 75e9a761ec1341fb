import { Entity, PrimaryKey, Property } from '@mikro-orm/postgresql';

/** One instance's shared rate budget (of one provider service): a token bucket every job and every scheduler process spends. */
@Entity({ tableName: 'rate_budget' })
export class RateBudgetRow {
  @PrimaryKey({ type: 'uuid' })
  instanceId!: string;

  /** The provider service with a budget of its own; '' is the instance's default budget. */
  @PrimaryKey({ type: 'string', length: 64, default: '' })
  service: string = '';

  /** Tokens added per millisecond: the provider's limit less the headroom. */
  @Property({ type: 'double precision' })
  ratePerMs!: number;

  /** Most tokens the bucket holds (the burst we allow ourselves). */
  @Property({ type: 'double precision' })
  capacity!: number;

  @Property({ type: 'double precision' })
  tokens!: number;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  /** The daily quota's bucket (null without one): half the day's allowance, refilled with the other half over 24 hours. */
  @Property({ type: 'double precision', nullable: true })
  dayRatePerMs: number | null = null;

  @Property({ type: 'double precision', nullable: true })
  dayCapacity: number | null = null;

  @Property({ type: 'double precision', nullable: true })
  dayTokens: number | null = null;

  /** The daily limit the provider last reported (Sforce-Limit-Info): it sizes the day's bucket in place of the documented default. */
  @Property({ type: 'double precision', nullable: true })
  dayLimitReported: number | null = null;

  /** A provider window's remaining requests spread until it resets: the rate until `pacedUntil`, when lower. */
  @Property({ type: 'double precision', nullable: true })
  pacedRatePerMs: number | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  pacedUntil: Date | null = null;

  /** Retry-After or an exhausted provider window: nobody sends before this. */
  @Property({ type: 'timestamptz', nullable: true })
  blockedUntil: Date | null = null;
}
