import { requestOrigin, type JobOrigin } from '../../platform/tracing.js';
import { createHash } from 'node:crypto';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from '../../platform/scope.js';
import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { mapRow, mapRows, type DbRow } from '../../platform/database.js';
import { appError, ErrorCode } from '../../platform/errors.js';
import { newId } from '../../platform/ids.js';
import { applyKeyset, countRows, toConnection, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import { EventKind } from './event-log.entity.js';
import { EventLogService } from './event-log.service.js';
import { GovernanceActionType, GovernanceStatus } from '../../platform/governance/actions.js';
import type { GovernanceLog, GovernanceRecord, GovernanceRequest, RequestOutcome } from '../../platform/governance/log.js';
import { GovernanceAction } from './governance-action.entity.js';

export interface GovernanceFilter {
  readonly instanceId?: string;
  readonly type?: GovernanceActionType;
  readonly status?: GovernanceStatus;
}

/** Newest request first. */
export const GOVERNANCE_ORDER: Ordering = {
  direction: 'desc',
  columns: [
    { column: 'requested_at', type: 'timestamptz' },
    { column: 'id', type: 'uuid' },
  ],
};

const ACTION = 'activities.governance_action';
/** Wakes the scheduler's dispatcher (see scheduler/dispatcher.ts). */
const SCHEDULER_CHANNEL = 'tenantwatch_scheduler';
const LIVE = [GovernanceStatus.PENDING, GovernanceStatus.RUNNING];

const toRecord = (r: DbRow): GovernanceRecord => ({
  id: r.id as string,
  type: r.type as GovernanceActionType,
  status: r.status as GovernanceStatus,
  instanceId: r.instance_id as string,
  targetId: r.target_id as string,
  accountId: (r.account_id as string | null) ?? null,
  fileId: (r.file_id as string | null) ?? null,
  appPermissionId: (r.app_permission_id as string | null) ?? null,
  requestedBy: r.requested_by as string,
  reason: (r.reason as string | null) ?? null,
  dryRun: r.dry_run as boolean,
  attempts: Number(r.attempts),
  error: (r.error as string | null) ?? null,
  requestedAt: new Date(r.requested_at as string),
  startedAt: r.started_at ? new Date(r.started_at as string) : null,
  completedAt: r.completed_at ? new Date(r.completed_at as string) : null,
  detectionId: (r.detection_id as string | null) ?? null,
});

/** The target a request names (exactly one of the three). */
export function targetOf(request: Pick<GovernanceRequest, 'accountId' | 'fileId' | 'appPermissionId'>): string {
  const target = request.accountId ?? request.fileId ?? request.appPermissionId;
  if (!target) throw new Error('A governance request names no target');
  return target;
}

/** The row a request is stored as. */
function rowOf(request: GovernanceRequest, status: GovernanceStatus) {
  return {
    id: newId(),
    type: request.type,
    status,
    instance_id: request.instanceId,
    target_id: targetOf(request),
    account_id: request.accountId ?? null,
    file_id: request.fileId ?? null,
    app_permission_id: request.appPermissionId ?? null,
    requested_by: request.requestedBy,
    reason: request.reason ?? null,
    dry_run: request.dryRun === true,
    attempts: 0,
    requested_at: new Date(),
    detection_id: request.detectionId ?? null,
    idempotency_key: request.idempotencyKey ?? null,
    input_hash: inputHash(request),
    // The mutation's request id and trace: the scheduler's job runs as part of them.
    origin: requestOrigin() ?? null,
  };
}

/** What makes two requests the same: a retry carries the same hash, a conflicting reuse of a key does not. */
export function inputHash(request: GovernanceRequest): string {
  const canonical = JSON.stringify([
    request.type,
    targetOf(request),
    request.reason ?? null,
    request.dryRun === true,
    request.detectionId ?? null,
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The only writer of the governance log; also its reads. It implements the platform's
 * {@link GovernanceLog} port: writes go through knex on the caller's connection (a subgraph that owns
 * the target records the action in the same database), so the accounts, files and app-permissions
 * subgraphs record actions without the activities ORM, through the port they are handed.
 */
/** An action handed to the scheduler: its id and where it was asked for (null for actions recorded before origins were). */
export interface Claimed {
  readonly id: string;
  readonly origin: JobOrigin | null;
}

export class GovernanceService implements GovernanceLog {
  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    private readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /**
   * The action that already answers `request`: the one recorded under the same requester and
   * idempotency key (a different input under that key is a CONFLICT), else a live (PENDING or
   * RUNNING) action of the same type on the same target. Null when the request is new.
   */
  async existing(request: GovernanceRequest, db: Knex = this.knex): Promise<RequestOutcome | null> {
    if (request.idempotencyKey) {
      const row: DbRow | undefined = await db(ACTION)
        .where({ requested_by: request.requestedBy, idempotency_key: request.idempotencyKey })
        .first();
      if (row) {
        if (row.input_hash !== inputHash(request)) {
          throw appError(
            ErrorCode.CONFLICT,
            `Idempotency key "${request.idempotencyKey}" was already used for a different request (action ${String(row.id)}, ${String(row.type)}); use a new key`,
            { argument: 'input.idempotencyKey', actionId: row.id },
          );
        }
        return { action: toRecord(row), existing: 'key' };
      }
    }
    if (request.dryRun) return null;
    const live: DbRow | undefined = await db(ACTION)
      .where({ type: request.type, target_id: targetOf(request), dry_run: false })
      .whereIn('status', LIVE)
      .first();
    return live ? { action: toRecord(live), existing: 'live' } : null;
  }

  /**
   * Records a request as PENDING (a dry run is recorded too, never run) and wakes the scheduler;
   * or answers the action that already covers it (see {@link existing}). `validate` runs only for
   * a new request, so a retry after success is answered, not refused as "already suspended".
   */
  async request(request: GovernanceRequest, validate: () => Promise<void> = async () => undefined): Promise<RequestOutcome> {
    const found = await this.existing(request);
    if (found) return found;
    await validate();
    const row = rowOf(request, GovernanceStatus.PENDING);
    const inserted = await this.knex.transaction(async (trx) => {
      const rows: DbRow[] = await trx(ACTION).insert(row).onConflict().ignore().returning('*');
      if (rows[0] && !row.dry_run)
        await trx.raw('select pg_notify(?, ?)', [SCHEDULER_CHANNEL, JSON.stringify({ governanceActionId: row.id })]);
      return rows[0];
    });
    if (inserted) return { action: toRecord(inserted), existing: null };
    // A concurrent identical request won the race (same key, or the same live target): answer it.
    const winner = await this.existing(request);
    if (winner) return winner;
    throw appError(ErrorCode.CONFLICT, 'A concurrent request for the same action was recorded and finished at the same moment; try again');
  }

  /** Marks up to `limit` undispatched PENDING actions dispatched (each claimed by one scheduler) and answers their ids, oldest first. */
  async claimUndispatched(limit = 200): Promise<Claimed[]> {
    const rows: Claimed[] = await this.knex(ACTION)
      .whereIn(
        'id',
        this.knex(ACTION)
          .select('id')
          .where('status', GovernanceStatus.PENDING)
          .whereNull('dispatched_at')
          .where('dry_run', false)
          .orderBy('requested_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .update({ dispatched_at: new Date() })
      .returning(['id', 'origin']);
    return rows;
  }

  /**
   * Live actions dispatched more than `olderThanMs` ago whose job may have been lost (a scheduler
   * that died between the claim and the job store); answers their ids, marked dispatched again.
   */
  async reclaimStale(olderThanMs: number, limit = 200): Promise<Claimed[]> {
    const before = new Date(Date.now() - olderThanMs);
    const rows: Claimed[] = await this.knex(ACTION)
      .whereIn(
        'id',
        this.knex(ACTION)
          .select('id')
          .whereIn('status', LIVE)
          .where('dry_run', false)
          .where('dispatched_at', '<', before)
          .orderBy('dispatched_at')
          .limit(limit)
          .forUpdate()
          .skipLocked(),
      )
      .update({ dispatched_at: new Date() })
      .returning(['id', 'origin']);
    return rows;
  }

  async get(id: string): Promise<GovernanceRecord | null> {
    const row: DbRow | undefined = await this.knex(ACTION).where('id', id).first();
    return row ? toRecord(row) : null;
  }

  /**
   * Starts one attempt: RUNNING, attempts + 1, startedAt set on the first, committed before the
   * provider is called (so `attempts > 1` tells a later run that an earlier attempt may have reached
   * the provider). Answers the action as updated, or null when it is no longer live.
   */
  async beginAttempt(id: string): Promise<GovernanceRecord | null> {
    const rows: DbRow[] = await this.knex(ACTION)
      .where('id', id)
      .whereIn('status', LIVE)
      .where('dry_run', false)
      .update({
        status: GovernanceStatus.RUNNING,
        attempts: this.knex.raw('attempts + 1'),
        started_at: this.knex.raw('coalesce(started_at, now())'),
        dispatched_at: new Date(),
      })
      .returning('*');
    return rows[0] ? toRecord(rows[0]) : null;
  }

  /** Notes a transient failure that will be retried (the action stays RUNNING, `error` says why it waits). */
  async noteRetry(id: string, error: string): Promise<void> {
    await this.knex(ACTION).where('id', id).whereIn('status', LIVE).update({ error, dispatched_at: new Date() });
  }

  /**
   * Ends the action in `trx` — the transaction that also applies its effect to the owning module's
   * data — with its `governanceResult` event: both commit together or neither does. Answers false
   * (and writes nothing) when the action had already ended.
   */
  async finish(
    trx: Knex.Transaction,
    id: string,
    outcome: { status: Extract<GovernanceStatus, 'SUCCEEDED' | 'FAILED'>; error?: string | null },
  ): Promise<boolean> {
    const rows: DbRow[] = await trx(ACTION)
      .where('id', id)
      .whereIn('status', LIVE)
      .update({ status: outcome.status, error: outcome.error ?? null, completed_at: new Date() })
      .returning('*');
    const action = rows[0];
    if (!action) return false;
    await new EventLogService(this.knex).append(trx, {
      kind: EventKind.GOVERNANCE,
      entityId: action.id as string,
      instanceId: action.instance_id as string,
      attributes: { type: action.type, status: outcome.status },
    });
    return true;
  }

  async byIds(ids: readonly string[]): Promise<GovernanceAction[]> {
    return mapRows(
      this.em,
      GovernanceAction,
      await this.knex(ACTION)
        .select('*')
        .whereIn('id', [...ids])
        .modify(restrictTo(this.scope, 'instance_id')),
    );
  }

  async list(filter: GovernanceFilter, page: PageRequest): Promise<Connection<GovernanceAction>> {
    const base = () => {
      const qb = this.knex(`${ACTION} as g`).modify(restrictTo(this.scope, 'g.instance_id'));
      if (filter.instanceId) qb.where('g.instance_id', filter.instanceId);
      if (filter.type) qb.where('g.type', filter.type);
      if (filter.status) qb.where('g.status', filter.status);
      return qb;
    };
    const rows: DbRow[] = await applyKeyset(base().select('g.*'), 'g', GOVERNANCE_ORDER, page);
    return toConnection(
      rows,
      page,
      (r) => [r.requested_at as string, r.id as string],
      (r) => mapRow(this.em, GovernanceAction, r),
      () => countRows(base()),
    );
  }
}
