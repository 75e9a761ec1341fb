import type { EntityManager, Knex } from '@mikro-orm/postgresql';
import { mapRow, mapRows, type DbRow } from '../shared/database.js';
import { applyKeyset, countRows, toConnection, type Connection, type Ordering, type PageRequest } from '../shared/pagination.js';
import { EventKind } from './event-log.entity.js';
import { EventLogService } from './event-log.service.js';
import { GovernanceAction, GovernanceActionType, GovernanceStatus } from './governance-action.entity.js';

/** A governance request, as a mutation or a policy makes it. */
export interface GovernanceRequest {
  readonly type: GovernanceActionType;
  readonly instanceId: string;
  readonly accountId?: string | null;
  readonly fileId?: string | null;
  readonly appPermissionId?: string | null;
  readonly requestedBy: string;
  readonly reason?: string | null;
  readonly dryRun?: boolean;
  readonly detectionId?: string | null;
  readonly idempotencyKey?: string | null;
  readonly inputHash?: string | null;
}

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

/** The only writer of the governance log; also its reads. */
export class GovernanceService {
  constructor(private readonly em: EntityManager) {}

  private get knex(): Knex {
    return this.em.getKnex();
  }

  /** Records a requested action as PENDING, with its event-log entry in the same transaction. */
  async record(request: GovernanceRequest): Promise<GovernanceAction> {
    return this.em.transactional(async (em) => {
      const action = em.create(GovernanceAction, { ...request });
      await em.flush();
      await new EventLogService(this.knex).append(em.getTransactionContext<Knex.Transaction>()!, {
        kind: EventKind.GOVERNANCE,
        entityId: action.id,
        instanceId: action.instanceId,
        attributes: { type: action.type, status: action.status },
      });
      return action;
    });
  }

  async byIds(ids: readonly string[]): Promise<GovernanceAction[]> {
    return mapRows(this.em, GovernanceAction, await this.knex(ACTION).select('*').whereIn('id', [...ids]));
  }

  async list(filter: GovernanceFilter, page: PageRequest): Promise<Connection<GovernanceAction>> {
    const base = () => {
      const qb = this.knex(`${ACTION} as g`);
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
