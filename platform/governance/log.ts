import type { GovernanceActionType, GovernanceStatus } from './actions.js';

/**
 * The governance-log port: how a subgraph that owns a target (or the scheduler, for a policy's
 * auto-governance) records an action. The activities subgraph keeps the log and implements it; the
 * process that composes the subgraphs hands the implementation in (subgraphs/index.ts).
 */

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
}

/** One governance action as its writers and the job read it. */
export interface GovernanceRecord {
  readonly id: string;
  readonly type: GovernanceActionType;
  readonly status: GovernanceStatus;
  readonly instanceId: string;
  readonly targetId: string;
  readonly accountId: string | null;
  readonly fileId: string | null;
  readonly appPermissionId: string | null;
  readonly requestedBy: string;
  readonly reason: string | null;
  readonly dryRun: boolean;
  readonly attempts: number;
  readonly error: string | null;
  readonly requestedAt: Date;
  readonly startedAt: Date | null;
  readonly completedAt: Date | null;
  readonly detectionId: string | null;
}

/** What {@link GovernanceLog.request} did: recorded a new action, or answered an existing one. */
export interface RequestOutcome {
  readonly action: GovernanceRecord;
  /** `key`: the same idempotency key answered; `live`: the same action on the same target is underway. */
  readonly existing: 'key' | 'live' | null;
}

export interface GovernanceLog {
  /**
   * Records a request as PENDING (a dry run is recorded too, never run) and wakes the scheduler, or
   * answers the action that already covers it (the same requester and idempotency key, or the same
   * live action on the same target). `validate` runs only for a new request and refuses it by
   * throwing. Throws CONFLICT when the key was used for a different request.
   */
  request(request: GovernanceRequest, validate?: () => Promise<void>): Promise<RequestOutcome>;
}
