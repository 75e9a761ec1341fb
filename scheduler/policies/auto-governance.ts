import { GraphQLError } from 'graphql';
import type { Detection, Policy } from '../../subgraphs/activities/public.js';
import type { ModuleServices } from '../services.js';
import { logger } from '../../platform/logger.js';
import type { EvaluationServices } from './enabled.js';
import {
  GOVERNANCE_ACTIONS,
  type GovernanceActionType,
  type GovernanceTarget,
  type GovernanceTargetKind,
} from '../../platform/governance/actions.js';
import { validateRequest } from '../../platform/governance/request.js';

/** What auto-governance needs beyond evaluation: the governance log and the instance directory. */
export type AutoGovernanceServices = EvaluationServices & Pick<ModuleServices, 'governance' | 'instanceDirectory'>;

async function loadTarget(services: EvaluationServices, kind: GovernanceTargetKind, id: string): Promise<GovernanceTarget | null> {
  if (kind === 'account') {
    const [a] = await services.accounts().accountsByIds([id]);
    return a
      ? { id, instanceId: a.instanceId, deleted: a.deletedAt !== null, label: a.email ?? a.displayName, state: { kind, status: a.status } }
      : null;
  }
  if (kind === 'file') {
    const [f] = await services.files().byIds([id]);
    return f
      ? {
          id,
          instanceId: f.instanceId,
          deleted: f.deletedAt !== null,
          label: `"${f.path}"`,
          state: { kind, sharing: f.sharing, trashed: f.trashed, quarantined: f.quarantined },
        }
      : null;
  }
  const [g] = await services.grants().byIds([id]);
  return g
    ? {
        id,
        instanceId: g.instanceId,
        deleted: g.deletedAt !== null,
        label: `${g.appName} (${g.externalId})`,
        state: { kind, revoked: g.revoked },
      }
    : null;
}

/**
 * Requests the policy's `autoGovernance` actions for a detection it just raised, on the subject the
 * detection names (its account, file or app permission), as `policy:<id>` with the detection
 * linked; with `grantIds` (an app policy's newly matched grants, raised or extended), actions on app
 * permissions apply to each of them. The idempotency key `detection:<id>:<type>[:<grant>]` makes a
 * re-evaluation request nothing twice.
 * An action the subject cannot take (already suspended, no such capability) is skipped and logged.
 * Answers how many actions were recorded or joined.
 */
export async function autoGovern(
  services: AutoGovernanceServices,
  policy: Policy,
  detection: Detection,
  grantIds?: readonly string[],
): Promise<number> {
  let requested = 0;
  for (const type of policy.autoGovernance) {
    const kind = GOVERNANCE_ACTIONS[type].target;
    // An app policy's action on grants applies to each grant the match newly saw.
    if (kind === 'appPermission' && grantIds) {
      for (const grantId of grantIds)
        requested += await requestOne(services, policy, detection, type, kind, grantId, `detection:${detection.id}:${type}:${grantId}`);
      continue;
    }
    const targetId = kind === 'account' ? detection.accountId : kind === 'file' ? detection.fileId : detection.appPermissionId;
    if (!targetId) {
      logger.info(
        { policyId: policy.id, detectionId: detection.id, type },
        'auto-governance skipped: the detection names no target of that kind',
      );
      continue;
    }
    requested += await requestOne(services, policy, detection, type, kind, targetId, `detection:${detection.id}:${type}`);
  }
  return requested;
}

/** Requests one action on one target for a detection; answers 1, or 0 when the target cannot take it (skipped and logged). */
async function requestOne(
  services: AutoGovernanceServices,
  policy: Policy,
  detection: Detection,
  type: GovernanceActionType,
  kind: GovernanceTargetKind,
  targetId: string,
  idempotencyKey: string,
): Promise<number> {
  const target = await loadTarget(services, kind, targetId);
  if (!target) return 0;
  try {
    await services.governance().request(
      {
        type,
        instanceId: target.instanceId,
        accountId: kind === 'account' ? targetId : null,
        fileId: kind === 'file' ? targetId : null,
        appPermissionId: kind === 'appPermission' ? targetId : null,
        requestedBy: `policy:${policy.id}`,
        reason: `Policy "${policy.name}" raised detection ${detection.id}`,
        detectionId: detection.id,
        idempotencyKey,
      },
      () => validateRequest(services.instanceDirectory(), type, target),
    );
    return 1;
  } catch (error) {
    if (!(error instanceof GraphQLError)) throw error;
    logger.info({ policyId: policy.id, detectionId: detection.id, type, reason: error.message }, 'auto-governance skipped');
    return 0;
  }
}
