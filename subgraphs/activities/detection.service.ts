import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { mapRow, mapRows, type DbRow } from '../shared/database.js';
import { applyKeyset, countRows, toConnection, type Connection, type Ordering, type PageRequest } from '../shared/pagination.js';
import { newId } from '../shared/ids.js';
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
}

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
          evidence: JSON.stringify(draft.evidence ?? {}),
          detected_at: draft.detectedAt ?? new Date(),
          updated_at: new Date(),
        })
        .returning('*');
      const detection = mapRow(this.em, Detection, row);
      await new EventLogService(this.knex).append(trx, {
        kind: EventKind.DETECTION,
        entityId: detection.id,
        instanceId: detection.instanceId,
        attributes: { severity: detection.severity, status: detection.status, policyId: detection.policyId },
      });
      return detection;
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
    return mapRows(this.em, Detection, await this.knex(DETECTION).select('*').whereIn('id', [...ids]));
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
    return toConnection(rows, page, (r) => [r.detected_at as string, r.id as string], (r) => mapRow(this.em, Detection, r), () => countRows(base()));
  }
}
