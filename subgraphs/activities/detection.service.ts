import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { mapRow, mapRows, type DbRow } from '../../platform/database.js';
import { applyKeyset, countRows, toConnection, type Connection, type Ordering, type PageRequest } from '../../platform/pagination.js';
import { newId } from '../../platform/ids.js';
import { Detection, DetectionStatus } from './detection.entity.js';
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
  | { readonly outcome: 'raised'; readonly detection: Detection }
  | { readonly outcome: 'extended'; readonly detection: Detection; readonly added: number }
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

/** The only writer of detections; also their reads. */
export class DetectionService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Stores a new detection and its event-log entry in one transaction (subscribers see it at commit). */
  async raise(draft: DetectionDraft): Promise<Detection> {
    return this.knex.transaction(async (trx) => {
      const detection = await this.insert(trx, draft);
      await this.announce(trx, detection, 'raised');
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
        await this.announce(trx, detection, 'raised');
        return { outcome: 'raised', detection };
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
      await this.announce(trx, detection, 'extended');
      return { outcome: 'extended', detection, added: fresh.length };
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

  /** The event-log entry of a new or extended detection, in the same transaction. */
  private async announce(trx: Knex.Transaction, detection: Detection, change: 'raised' | 'extended'): Promise<void> {
    await new EventLogService(this.knex).append(trx, {
      kind: EventKind.DETECTION,
      entityId: detection.id,
      instanceId: detection.instanceId,
      attributes: { severity: detection.severity, status: detection.status, policyId: detection.policyId, change },
    });
  }

  /** Sets a detection's status (with an analyst's comment); answers null for an unknown id. */
  async setStatus(id: string, status: DetectionStatus, comment: string | null): Promise<Detection | null> {
    const [row] = await this.knex(DETECTION)
      .where('id', id)
      .update({ status, status_comment: comment, updated_at: new Date() })
      .returning('*');
    return row ? mapRow(this.em, Detection, row) : null;
  }

  async byIds(ids: readonly string[]): Promise<Detection[]> {
    return mapRows(
      this.em,
      Detection,
      await this.knex(DETECTION)
        .select('*')
        .whereIn('id', [...ids]),
    );
  }

  async list(filter: DetectionFilter, page: PageRequest): Promise<Connection<Detection>> {
    const base = () => {
      const qb = this.knex(`${DETECTION} as d`);
      if (filter.instanceId) qb.where('d.instance_id', filter.instanceId);
      if (filter.status) qb.where('d.status', filter.status);
      if (filter.policyId) qb.where('d.policy_id', filter.policyId);
      if (filter.severityAtLeast) qb.whereIn('d.severity', SEVERITY_ORDER.slice(SEVERITY_ORDER.indexOf(filter.severityAtLeast)));
      return qb;
    };
    const rows: DbRow[] = await applyKeyset(base().select('d.*'), 'd', DETECTION_ORDER, page);
    return toConnection(
      rows,
      page,
      (r) => [r.detected_at as string, r.id as string],
      (r) => mapRow(this.em, Detection, r),
      () => countRows(base()),
    );
  }
}
