import type { Knex } from '@mikro-orm/postgresql';
import { EventKind } from './event-log.entity.js';

/** The NOTIFY channel that wakes event-log listeners; the payload is the new cursor. */
export const EVENT_LOG_CHANNEL = 'tenantwatch_events';

const TABLE = 'activities.event_log';
/** Serializes appends so that cursors are assigned in commit order. */
const APPEND_LOCK = 'tenantwatch:event_log:append';

/** One event-log entry as readers see it. */
export interface LoggedEvent {
  readonly cursor: string;
  readonly kind: EventKind;
  readonly entityId: string;
  readonly instanceId: string;
  readonly attributes: Record<string, unknown>;
  readonly createdAt: Date;
}

interface Row {
  cursor: string;
  kind: EventKind;
  entity_id: string;
  instance_id: string;
  attributes: Record<string, unknown>;
  created_at: Date;
}

const toEvent = (r: Row): LoggedEvent => ({
  cursor: String(r.cursor),
  kind: r.kind,
  entityId: r.entity_id,
  instanceId: r.instance_id,
  attributes: r.attributes,
  createdAt: new Date(r.created_at),
});

/**
 * The only writer of the event log. `append` must run inside the transaction that writes the
 * detection or governance action it announces: both commit together or neither does, and the
 * NOTIFY is delivered at commit.
 */
export class EventLogService {
  constructor(private readonly knex: Knex) {}

  /**
   * Appends one entry in `trx` and notifies at commit, in one statement: the transaction-scoped
   * advisory lock is taken before the cursor is drawn (the insert reads its one row from the lock's
   * CTE, and the cursor's default is computed per row read), so cursors are assigned in commit order.
   */
  async append(trx: Knex.Transaction, event: Omit<LoggedEvent, 'cursor' | 'createdAt'>): Promise<LoggedEvent> {
    const { rows } = (await trx.raw(
      `with locked as (select pg_advisory_xact_lock(hashtextextended(?, 0))),
       appended as (
         insert into ${TABLE} (kind, entity_id, instance_id, attributes, created_at)
         select ?, ?, ?, ?::jsonb, ? from locked
         returning *
       )
       select appended.*, pg_notify(?, appended.cursor::text) from appended`,
      [APPEND_LOCK, event.kind, event.entityId, event.instanceId, JSON.stringify(event.attributes), new Date(), EVENT_LOG_CHANNEL],
    )) as { rows: Row[] };
    return toEvent(rows[0]!);
  }

  /** Entries after `cursor` (exclusive), oldest first, at most `limit`. */
  async after(cursor: string, limit = 500, kind?: EventKind): Promise<LoggedEvent[]> {
    const qb = this.knex(TABLE).where('cursor', '>', cursor).orderBy('cursor').limit(limit);
    if (kind) qb.where('kind', kind);
    return ((await qb) as Row[]).map(toEvent);
  }

  /** The newest cursor ('0' when the log is empty). */
  async latest(): Promise<string> {
    const row = (await this.knex(TABLE).max('cursor as cursor').first()) as { cursor: string | null } | undefined;
    return String(row?.cursor ?? '0');
  }

  /** Deletes entries older than `olderThan`; answers how many. */
  async prune(olderThan: Date): Promise<number> {
    return this.knex(TABLE).where('created_at', '<', olderThan).delete();
  }
}
