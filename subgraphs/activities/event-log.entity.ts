import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/postgresql';

/** What an event-log entry announces. */
export enum EventKind {
  DETECTION = 'DETECTION',
  GOVERNANCE = 'GOVERNANCE',
}

/**
 * The append-only event log behind the live streams. `cursor` strictly increases in commit order
 * (appends are serialized), so "everything after cursor N" never skips an event committed late.
 */
@Entity({ tableName: 'event_log' })
@Index({ properties: ['createdAt'] })
export class EventLogEntry {
  @PrimaryKey({ type: 'bigint', autoincrement: true })
  cursor!: string;

  @Property({ type: 'text' })
  kind!: EventKind;

  /** The detection's or governance action's id. */
  @Property({ type: 'uuid' })
  entityId!: string;

  @Property({ type: 'uuid' })
  instanceId!: string;

  /** What subscription filters match on (severity, status, policyId, type...). */
  @Property({ type: 'jsonb' })
  attributes!: Record<string, unknown>;

  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();
}
