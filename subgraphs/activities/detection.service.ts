import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { EVERY_INSTANCE, restrictTo, type InstanceScope } from '../../platform/scope.js';
import { mapRow, mapRows, type DbRow } from '../../platform/database.js';
import {
  applyKeyset,
  connectionsByParent,
  countRows,
  countsByParent,
  pagesByParent,
  toConnection,
  type Connection,
  type Ordering,
  type PageRequest,
} from '../../platform/pagination.js';
import { newId } from '../../platform/ids.js';
import { Detection, DetectionChange, DetectionHistoryEntry, DetectionStatus } from './detection.entity.js';
import { EventKind } from './event-log.entity.js';
import { EventLogService } from './event-log.service.js';
import { SEVERITY_ORDER, Severity } from './policy.entity.js';

/** A new detection, as policy evaluation raises it. */
export interface DetectionDraft {
  readonly policyId: string;
  readonly severity: Severity;
  readonly title: string;
  readonly description: string;
  readonly instanceId: string;
  readonly accountId?: string | null;
  readonly fileId?: string | null;
  readonly appPermissionId?: string | null;
  readonly activityIds?: readonly string[];
  readonly subjectKey?: string | null;
  readonly evidence?: Record<string, unknown>;
  readonly detectedAt?: Date;
  /** Keys of what matched (activity ids, grant ids, file states). */
  readonly observations?: readonly string[];
  readonly firstSeenAt?: Date | null;
  readonly lastSeenAt?: Date | null;
}

/** A policy match about one subject, as evaluation reports it to {@link DetectionService.raiseOrExtend}. */
export interface DetectionMatch extends DetectionDraft {
  /** What the match is about, e.g. `account:<id>`, `file:<id>`, `app:<client id>`. */
  readonly subjectKey: string;
  /** Keys of what matched; the dedup unit (activity ids, grant ids, a file's state). */
  readonly observations: readonly string[];
  /** Event time of the earliest and latest evidence (files and grants: when seen). */
  readonly firstSeenAt: Date;
  readonly lastSeenAt: Date;
  /** A match within this many minutes of an open detection's evidence extends it. */
  readonly windowMinutes: number;
  readonly evidence: Record<string, unknown>;
  /** Evidence lists that grow when a detection is extended (distinct, capped); every other field is replaced. */
  readonly accumulate?: readonly string[];
}

/** What {@link DetectionService.raiseOrExtend} did. */
export type RaiseOutcome =
  | { readonly outcome: 'raised'; readonly detection: Detection; readonly fresh: readonly string[] }
  | { readonly outcome: 'extended'; readonly detection: Detection; readonly added: number; readonly fresh: readonly string[] }
  | { readonly outcome: 'unchanged' };

/** At most this many distinct entries are kept in each list of a detection's evidence. */
const EVIDENCE_LIST_CAP = 100;

/** Later evidence wins, except the `accumulate` lists, which are merged (distinct, capped). */
function mergeEvidence(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  accumulate: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...before, ...after };
  for (const key of accumulate) {
    const value = after[key];
    if (!Array.isArray(value)) continue;
    const old: unknown[] = Array.isArray(before[key]) ? before[key] : [];
    const seen = new Map<string, unknown>();
    for (const item of [...old, ...value]) if (seen.size < EVIDENCE_LIST_CAP) seen.set(JSON.stringify(item), item);
    out[key] = [...seen.values()];
  }
  return out;
}

function withCounts(evidence: Record<string, unknown>, count: number, first: Date, last: Date): Record<string, unknown> {
  return { ...evidence, count, firstSeenAt: first.toISOString(), lastSeenAt: last.toISOString() };
}

const earliest = (a: Date, b: Date) => (a.getTime() <= b.getTime() ? a : b);
const latest = (a: Date, b: Date) => (a.getTime() >= b.getTime() ? a : b);

export interface DetectionFilter {
  readonly instanceId?: string;
  readonly severityAtLeast?: Severity;
  readonly status?: DetectionStatus;
  readonly policyId?: string;
  /** Assigned to this one; null: to nobody. */
  readonly assignee?: string | null;
}

/** One history entry as a change writes it. */
interface HistoryRow {
  readonly change: DetectionChange;
  readonly actor: string;
  readonly fromStatus?: DetectionStatus | null;
  readonly toStatus?: DetectionStatus | null;
  readonly fromAssignee?: string | null;
  readonly toAssignee?: string | null;
  readonly comment?: string | null;
}

/** Newest first. */
export const DETECTION_ORDER: Ordering = {
  direction: 'desc',
  columns: [
    { column: 'detected_at', type: 'timestamptz' },
    { column: 'id', type: 'uuid' },
  ],
};

const DETECTION = 'activities.detection';
const HISTORY = 'activities.detection_history';

/** Who raised a detection, in its history: Tenantwatch's policy evaluation. */
export const POLICY_ACTOR = 'tenantwatch';

/** The subjects whose detections `Account.detections`, `File.detections` and `AppPermission.detections` list. */
export type DetectionSubject = 'account_id' | 'file_id' | 'app_permission_id';

/** A triage change asked for by an analyst: who, and why. */
export interface Triage {
  readonly actor: string;
  readonly comment: string | null;
}

/** The only writer of detections; also their reads. */
export class DetectionService {
  /** `scope`: the instances a caller may read (null: every one); every read keeps to it. */
  constructor(
    private readonly em: EntityManager,
    private readonly scope: InstanceScope = EVERY_INSTANCE,
  ) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Stores a new detection and its event-log entry in one transaction (subscribers see it at commit). */
  async raise(draft: DetectionDraft): Promise<Detection> {
    return this.knex.transaction(async (trx) => {
      const detection = await this.insert(trx, draft);
      await this.announce(trx, detection, DetectionChange.RAISED);
      return detection;
    });
  }

  /**
   * Records a policy match in one transaction with its event-log entry. Observations already recorded
   * by any detection of the same policy and subject are dropped (a re-read or a re-evaluation adds
   * nothing; a dismissed match is not raised again); if none is left, nothing is written. Otherwise
   * the OPEN detection of that policy and subject whose evidence lies within `windowMinutes` of the
   * match is extended (observations, activities, seen-times, evidence), or a new one is raised.
   * Matches about one subject are serialized by an advisory lock, so concurrent evaluations of the
   * same subject cannot both raise.
   */
  async raiseOrExtend(match: DetectionMatch): Promise<RaiseOutcome> {
    return this.knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [
        `tenantwatch:detection:${match.policyId}:${match.subjectKey}`,
      ]);
      const same = () => trx(DETECTION).where({ policy_id: match.policyId, subject_key: match.subjectKey });
      const wanted = [...new Set(match.observations)];
      const recorded: { observations: string[] }[] = await same().select('observations').whereRaw('observations && ?::text[]', [wanted]);
      const known = new Set(recorded.flatMap((r) => r.observations));
      const fresh = wanted.filter((o) => !known.has(o));
      if (fresh.length === 0) return { outcome: 'unchanged' };
      const activityIds = (match.activityIds ?? []).filter((id) => !known.has(id));
      const window = match.windowMinutes * 60_000;
      const [open] = (await same()
        .select('*')
        .where('status', DetectionStatus.OPEN)
        .whereRaw('coalesce(first_seen_at, detected_at) <= ?', [new Date(match.lastSeenAt.getTime() + window)])
        .whereRaw('coalesce(last_seen_at, detected_at) >= ?', [new Date(match.firstSeenAt.getTime() - window)])
        .orderBy('detected_at', 'desc')
        .limit(1)
        .forUpdate()) as DbRow[];
      if (!open) {
        const detection = await this.insert(trx, {
          ...match,
          activityIds,
          observations: fresh,
          evidence: withCounts(mergeEvidence({}, match.evidence, match.accumulate), fresh.length, match.firstSeenAt, match.lastSeenAt),
        });
        await this.announce(trx, detection, DetectionChange.RAISED);
        return { outcome: 'raised', detection, fresh };
      }
      const current = mapRow(this.em, Detection, open);
      const observations = [...current.observations, ...fresh];
      const firstSeenAt = earliest(current.firstSeenAt ?? current.detectedAt, match.firstSeenAt);
      const lastSeenAt = latest(current.lastSeenAt ?? current.detectedAt, match.lastSeenAt);
      const [row] = await trx(DETECTION)
        .where('id', current.id)
        .update({
          observations,
          activity_ids: [...new Set([...current.activityIds, ...activityIds])],
          first_seen_at: firstSeenAt,
          last_seen_at: lastSeenAt,
          evidence: JSON.stringify(
            withCounts(mergeEvidence(current.evidence, match.evidence, match.accumulate), observations.length, firstSeenAt, lastSeenAt),
          ),
          updated_at: new Date(),
        })
        .returning('*');
      const detection = mapRow(this.em, Detection, row);
      await this.announce(trx, detection, DetectionChange.EXTENDED);
      return { outcome: 'extended', detection, added: fresh.length, fresh };
    });
  }

  private async insert(trx: Knex.Transaction, draft: DetectionDraft): Promise<Detection> {
    const [row] = await trx(DETECTION)
      .insert({
        id: newId(),
        policy_id: draft.policyId,
        severity: draft.severity,
        title: draft.title,
        description: draft.description,
        status: DetectionStatus.OPEN,
        instance_id: draft.instanceId,
        account_id: draft.accountId ?? null,
        file_id: draft.fileId ?? null,
        app_permission_id: draft.appPermissionId ?? null,
        activity_ids: [...(draft.activityIds ?? [])],
        subject_key: draft.subjectKey ?? null,
        observations: [...(draft.observations ?? [])],
        first_seen_at: draft.firstSeenAt ?? null,
        last_seen_at: draft.lastSeenAt ?? null,
        evidence: JSON.stringify(draft.evidence ?? {}),
        detected_at: draft.detectedAt ?? new Date(),
        updated_at: new Date(),
      })
      .returning('*');
    return mapRow(this.em, Detection, row);
  }

  /**
   * The event-log entry of a change of a detection, in the same transaction; a raised detection
   * also starts its history (by {@link POLICY_ACTOR}).
   */
  private async announce(trx: Knex.Transaction, detection: Detection, change: DetectionChange, history?: HistoryRow): Promise<void> {
    await new EventLogService(this.knex).append(trx, {
      kind: EventKind.DETECTION,
      entityId: detection.id,
      instanceId: detection.instanceId,
      attributes: { severity: detection.severity, status: detection.status, policyId: detection.policyId, change: change.toLowerCase() },
    });
    const entry = history ?? (change === DetectionChange.RAISED ? { change, actor: POLICY_ACTOR, toStatus: detection.status } : undefined);
    if (entry)
      await trx(HISTORY).insert({
        id: newId(),
        detection_id: detection.id,
        at: new Date(),
        actor: entry.actor,
        change: entry.change,
        from_status: entry.fromStatus ?? null,
        to_status: entry.toStatus ?? null,
        from_assignee: entry.fromAssignee ?? null,
        to_assignee: entry.toAssignee ?? null,
        comment: entry.comment ?? null,
      });
  }

  /**
   * Sets the status of detections (an analyst's triage, with a comment), each change in its history
   * and announced as STATUS_CHANGED, all in one transaction. A detection already in `status` is left
   * as it is unless a comment comes with it. Answers the detections in the order of `ids`; with an
   * unknown id, nothing is changed and the answer holds null for each unknown one (the others unchanged).
   */
  async setStatus(ids: readonly string[], status: DetectionStatus, triage: Triage): Promise<(Detection | null)[]> {
    return this.change(ids, (current) =>
      current.status === status && triage.comment === null
        ? null
        : {
            update: { status, status_comment: triage.comment },
            history: {
              change: DetectionChange.STATUS_CHANGED,
              actor: triage.actor,
              fromStatus: current.status,
              toStatus: status,
              comment: triage.comment,
            },
          },
    );
  }

  /** Assigns detections to `assignee` (null: nobody), as {@link setStatus} sets their status; announced as ASSIGNED. */
  async assign(ids: readonly string[], assignee: string | null, triage: Triage): Promise<(Detection | null)[]> {
    return this.change(ids, (current) =>
      current.assignee === assignee && triage.comment === null
        ? null
        : {
            update: { assignee },
            history: {
              change: DetectionChange.ASSIGNED,
              actor: triage.actor,
              fromAssignee: current.assignee,
              toAssignee: assignee,
              comment: triage.comment,
            },
          },
    );
  }

  /** Applies `plan` to each detection of `ids` under a row lock, recording and announcing what changed. */
  private async change(
    ids: readonly string[],
    plan: (current: Detection) => { update: Record<string, unknown>; history: HistoryRow } | null,
  ): Promise<(Detection | null)[]> {
    const unique = [...new Set(ids)];
    const byId = await this.knex.transaction(async (trx) => {
      const rows = (await trx(DETECTION)
        .select('*')
        .whereIn('id', unique)
        .modify(restrictTo(this.scope, 'instance_id'))
        .orderBy('id')
        .forUpdate()) as DbRow[];
      const out = new Map<string, Detection>();
      // All or nothing: with an unknown id (or one out of the caller's scope), nothing changes (the caller refuses naming it).
      if (rows.length !== unique.length) {
        for (const row of rows) out.set(row.id as string, mapRow(this.em, Detection, row));
        return out;
      }
      for (const row of rows) {
        const current = mapRow(this.em, Detection, row);
        const planned = plan(current);
        if (!planned) {
          out.set(current.id, current);
          continue;
        }
        const [updated] = await trx(DETECTION)
          .where('id', current.id)
          .update({ ...planned.update, updated_at: new Date() })
          .returning('*');
        const detection = mapRow(this.em, Detection, updated);
        await this.announce(trx, detection, planned.history.change, planned.history);
        out.set(detection.id, detection);
      }
      return out;
    });
    return ids.map((id) => byId.get(id) ?? null);
  }

  /** The history of each detection, oldest first. */
  async historyOf(detectionIds: readonly string[]): Promise<Map<string, DetectionHistoryEntry[]>> {
    const rows: DbRow[] = await this.knex(HISTORY)
      .select('*')
      .whereIn('detection_id', [...detectionIds])
      .orderBy([{ column: 'at' }, { column: 'id' }]);
    const out = new Map<string, DetectionHistoryEntry[]>(detectionIds.map((id) => [id, []]));
    for (const r of rows)
      out.get(r.detection_id as string)?.push(
        Object.assign(new DetectionHistoryEntry(), {
          change: r.change as DetectionChange,
          at: new Date(r.at as string),
          actor: r.actor as string,
          fromStatus: (r.from_status as DetectionStatus | null) ?? null,
          toStatus: (r.to_status as DetectionStatus | null) ?? null,
          fromAssignee: (r.from_assignee as string | null) ?? null,
          toAssignee: (r.to_assignee as string | null) ?? null,
          comment: (r.comment as string | null) ?? null,
        }),
      );
    return out;
  }

  /** One page of detections per subject (an account, a file or an app permission), newest first, in one statement. */
  async detectionsOf(
    column: DetectionSubject,
    parentIds: readonly string[],
    filter: DetectionFilter,
    page: PageRequest,
  ): Promise<Map<string, Connection<Detection>>> {
    const pages = await pagesByParent<DbRow>(this.knex, parentIds, 'd', DETECTION_ORDER, page, (parent) =>
      this.filtered(this.knex(`${DETECTION} as d`).select('d.*').where(`d.${column}`, parent), filter),
    );
    return connectionsByParent(
      pages,
      page,
      (r) => [r.detected_at as string, r.id as string],
      (r) => mapRow(this.em, Detection, r),
      () => countsByParent(this.filtered(this.knex(`${DETECTION} as d`), filter), `d.${column}`, parentIds),
    );
  }

  async byIds(ids: readonly string[]): Promise<Detection[]> {
    return mapRows(
      this.em,
      Detection,
      await this.knex(DETECTION)
        .select('*')
        .whereIn('id', [...ids])
        .modify(restrictTo(this.scope, 'instance_id')),
    );
  }

  async list(filter: DetectionFilter, page: PageRequest): Promise<Connection<Detection>> {
    const base = () => this.filtered(this.knex(`${DETECTION} as d`), filter);
    const rows: DbRow[] = await applyKeyset(base().select('d.*'), 'd', DETECTION_ORDER, page);
    return toConnection(
      rows,
      page,
      (r) => [r.detected_at as string, r.id as string],
      (r) => mapRow(this.em, Detection, r),
      () => countRows(base()),
    );
  }

  private filtered(qb: Knex.QueryBuilder, filter: DetectionFilter): Knex.QueryBuilder {
    qb.modify(restrictTo(this.scope, 'd.instance_id'));
    if (filter.instanceId) qb.where('d.instance_id', filter.instanceId);
    if (filter.status) qb.where('d.status', filter.status);
    if (filter.policyId) qb.where('d.policy_id', filter.policyId);
    if (filter.severityAtLeast) qb.whereIn('d.severity', SEVERITY_ORDER.slice(SEVERITY_ORDER.indexOf(filter.severityAtLeast)));
    if (filter.assignee !== undefined) {
      if (filter.assignee === null) qb.whereNull('d.assignee');
      else qb.where('d.assignee', filter.assignee);
    }
    return qb;
  }
}
