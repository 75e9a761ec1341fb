import type { JobOrigin } from '../../platform/tracing.js';
import type { Knex } from '@mikro-orm/postgresql';
import type pg from 'pg';
import {
  ProviderError,
  ThrottledError,
  type Connector,
  type ProviderFile,
  type ProviderGrant,
  type ProviderUser,
} from '../../connectors/contract.js';
import { logger } from '../../platform/logger.js';
import { backoffDelay, sleep } from '../../platform/retry.js';
import type { SchedulerServices } from '../services.js';
import { withAdvisoryLock } from '../scan-lock.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';
import { ConnectionStatus } from '../../platform/vocabulary/instance.js';
import { GovernanceActionType, GovernanceStatus, GOVERNANCE_ACTIONS } from '../../platform/governance/actions.js';
import { type GovernanceRecord } from '../../platform/governance/log.js';

export const GOVERNANCE_JOB = 'governance.execute';

/** What carrying out an action reads and writes. */
export type GovernanceServices = Pick<
  SchedulerServices,
  'config' | 'stopping' | 'connector' | 'governance' | 'instanceDirectory' | 'accounts' | 'files' | 'grants' | 'transaction'
>;

export interface GovernanceJobData {
  readonly actionId: string;
  /** The mutation's request id and trace, which the job's logs and spans continue. */
  readonly origin?: JobOrigin;
}

/** The target's provider id, read from the module that owns it. */
interface Target {
  readonly externalId: string;
  /** Files only: for the expected effect when the provider answers without the record. */
  readonly sharing?: SharingLevel;
}

/** What the provider reported after the action (or null: it answered without the record). */
type Outcome = ProviderUser | ProviderFile | ProviderGrant | null;

/** What the job may do besides its own work: enqueue a rescan of an overwritten file. */
export interface GovernanceHooks {
  readonly rescanFile: (instanceId: string, fileExternalId: string) => Promise<void>;
}

/** The notice an overwritten file gets; fixed per action, so a retry can tell whether it already landed. */
export function overwriteNotice(action: Pick<GovernanceRecord, 'id' | 'requestedAt' | 'reason'>): string {
  return [
    'This file was replaced by a security governance action.',
    `Action: ${action.id}, requested ${action.requestedAt.toISOString()}.`,
    ...(action.reason ? [`Reason: ${action.reason}`] : []),
    'The original content is kept in quarantine by the provider; contact your security team to recover it.',
    '',
  ].join('\n');
}

/**
 * `governance.execute`: carries out one recorded action at the provider, exactly once.
 *
 * - One runner per action across schedulers (advisory lock); an ended action is left alone.
 * - Each attempt is committed (RUNNING, attempts + 1) before the provider is called. When an
 *   earlier attempt may have reached the provider (a lost answer, a 5xx, a scheduler killed
 *   mid-call), the provider's state is read first and an action already applied is not sent again.
 * - Throttled answers are waited out by the HTTP client at governance priority (the provider did
 *   nothing); 5xx, timeouts and dropped connections are retried here with backoff up to
 *   GOVERNANCE_MAX_ATTEMPTS; 404, 403 and validation errors FAIL at once with the provider's words.
 * - Success applies the effect to the owning module's data and ends the action with its
 *   `governanceResult` event in one transaction.
 */
export async function executeGovernance(
  services: GovernanceServices,
  lockPool: pg.Pool,
  hooks: GovernanceHooks,
  actionId: string,
): Promise<void> {
  const locked = await withAdvisoryLock(lockPool, `tenantwatch:governance:${actionId}`, () => run(services, hooks, actionId));
  if (!locked.ran) logger.debug({ actionId }, 'governance action already running elsewhere');
}

async function run(services: GovernanceServices, hooks: GovernanceHooks, actionId: string): Promise<void> {
  const governance = services.governance();
  const { GOVERNANCE_MAX_ATTEMPTS: maxAttempts, GOVERNANCE_RETRY_MS: retryMs } = services.config;
  let connector: Connector | undefined;
  let target: Target | null | undefined;
  // Whether the previous attempt may have reached the provider. A new run cannot know what an
  // earlier run's last call did, so it checks when any attempt was made before.
  let uncertain: boolean | undefined;
  for (;;) {
    const action = await governance.beginAttempt(actionId);
    if (!action) return;
    uncertain ??= action.attempts > 1;
    try {
      if (!target) {
        const instance = await services.instanceDirectory().governanceView(action.instanceId);
        if (!instance) return await fail(services, action, 'The app instance no longer exists');
        if (instance.status === ConnectionStatus.DISCONNECTED)
          return await fail(services, action, `App instance "${instance.name}" was disconnected before the action ran; nothing was sent`);
        if (instance.status === ConnectionStatus.DELETED)
          return await fail(services, action, `App instance "${instance.name}" was deleted before the action ran; nothing was sent`);
        target = await findTarget(services, action);
        if (!target) return await fail(services, action, 'The target is no longer known to Tenantwatch');
      }
      connector ??= await services.connector(action.instanceId, 'governance', { retryTransient: false });
      let outcome: Outcome | undefined;
      if (uncertain) {
        const applied = await readIfApplied(connector, action, target);
        if (applied.missing)
          return await fail(
            services,
            action,
            `The provider no longer has this ${GOVERNANCE_ACTIONS[action.type].target === 'appPermission' ? 'grant' : GOVERNANCE_ACTIONS[action.type].target}`,
          );
        if (applied.done) {
          logger.info(
            { actionId, type: action.type, attempts: action.attempts },
            'governance action found already applied at the provider; not sent again',
          );
          outcome = applied.record;
        }
      }
      uncertain = true; // from here on, a failure may come after the provider acted
      outcome ??= await perform(connector, action, target);
      await succeed(services, action, target, outcome);
      if (action.type === GovernanceActionType.OVERWRITE_FILE)
        await hooks
          .rescanFile(action.instanceId, target.externalId)
          .catch((error: unknown) => logger.warn({ err: error, actionId }, 'could not enqueue the rescan of an overwritten file'));
      return;
    } catch (error) {
      if (services.stopping.aborted) throw error; // the action stays RUNNING; the job runs again and checks first
      // Not the provider's answer (our database, a stored config...): retried like a transient failure,
      // with the provider's state read first, and reported in our own words when attempts run out.
      // Either way the message is in Tenantwatch's words: a provider's answer by its HTTP status (its
      // body went to the log), our own failure without its internals (its stack goes to the log).
      const message =
        error instanceof ProviderError
          ? `${error.message}${target ? ` (the target is ${target.externalId} at the provider)` : ''}`
          : 'Tenantwatch could not carry out the action: an internal error, logged with the action id';
      if (!(error instanceof ProviderError)) logger.error({ err: error, actionId }, 'governance attempt failed inside Tenantwatch');
      if (error instanceof ThrottledError) uncertain = false;
      if (error instanceof ProviderError && !error.transient) return await fail(services, action, message);
      if (action.attempts >= maxAttempts) return await fail(services, action, `Gave up after ${action.attempts} attempts: ${message}`);
      const wait = backoffDelay({ initialMs: retryMs, maxMs: 60_000 }, action.attempts);
      await governance.noteRetry(
        actionId,
        `Attempt ${action.attempts} of ${maxAttempts} failed (${message}); retrying in ${Math.round(wait / 100) / 10} s`,
      );
      logger.warn({ actionId, type: action.type, attempt: action.attempts, err: error }, 'governance attempt failed; retrying');
      await sleep(wait, services.stopping);
    }
  }
}

async function findTarget(services: GovernanceServices, action: GovernanceRecord): Promise<Target | null> {
  switch (GOVERNANCE_ACTIONS[action.type].target) {
    case 'account': {
      const [account] = await services.accounts().accountsByIds([action.targetId]);
      return account ? { externalId: account.externalId } : null;
    }
    case 'file': {
      const [file] = await services.files().byIds([action.targetId]);
      return file ? { externalId: file.externalId, sharing: file.sharing } : null;
    }
    case 'appPermission': {
      const [grant] = await services.grants().byIds([action.targetId]);
      return grant ? { externalId: grant.externalId } : null;
    }
  }
}

function perform(connector: Connector, action: GovernanceRecord, target: Target): Promise<Outcome> {
  const id = target.externalId;
  switch (action.type) {
    case GovernanceActionType.SUSPEND_ACCOUNT:
      return connector.suspendUser(id);
    case GovernanceActionType.UNSUSPEND_ACCOUNT:
      return connector.unsuspendUser(id);
    case GovernanceActionType.REQUIRE_PASSWORD_RESET:
      return connector.requirePasswordReset(id);
    case GovernanceActionType.REVOKE_APP_PERMISSION:
      return connector.revokeGrant(id);
    case GovernanceActionType.QUARANTINE_FILE:
      return connector.quarantineFile(id);
    case GovernanceActionType.RESTORE_FILE:
      return connector.restoreFile(id);
    case GovernanceActionType.TRASH_FILE:
      return connector.trashFile(id);
    case GovernanceActionType.REMOVE_EXTERNAL_SHARING:
      return connector.removeExternalSharing(id);
    case GovernanceActionType.OVERWRITE_FILE:
      return connector.overwriteFile(id, overwriteNotice(action));
  }
}

/** Tolerance for clock skew when comparing the provider's timestamps with when the action started. */
const SKEW_MS = 5_000;

/** Reads the target at the provider: gone, already in the state the action leads to (with the record), or not. */
async function readIfApplied(
  connector: Connector,
  action: GovernanceRecord,
  target: Target,
): Promise<{ missing: boolean; done: boolean; record: Outcome }> {
  const id = target.externalId;
  const kind = GOVERNANCE_ACTIONS[action.type].target;
  if (kind === 'account') {
    const user = await connector.getUser(id);
    if (!user) return { missing: true, done: false, record: null };
    const started = (action.startedAt ?? action.requestedAt).getTime() - SKEW_MS;
    const done =
      action.type === GovernanceActionType.SUSPEND_ACCOUNT
        ? user.status === 'SUSPENDED'
        : action.type === GovernanceActionType.UNSUSPEND_ACCOUNT
          ? user.status === 'ACTIVE'
          : user.sessionsRevokedAt !== undefined
            ? user.sessionsRevokedAt !== null && Date.parse(user.sessionsRevokedAt) >= started
            : user.passwordResetRequired === true;
    return { missing: false, done, record: user };
  }
  if (kind === 'appPermission') {
    const grant = await connector.getGrant(id);
    // A grant the provider no longer lists is revoked: the goal is reached.
    if (!grant) return { missing: false, done: true, record: null };
    return { missing: false, done: grant.revoked, record: grant };
  }
  const file = await connector.getFile(id);
  if (!file) return { missing: true, done: false, record: null };
  let done: boolean;
  switch (action.type) {
    case GovernanceActionType.QUARANTINE_FILE:
      done = file.quarantined;
      break;
    case GovernanceActionType.RESTORE_FILE:
      done = !file.quarantined && !file.trashed;
      break;
    case GovernanceActionType.TRASH_FILE:
      done = file.trashed;
      break;
    case GovernanceActionType.REMOVE_EXTERNAL_SHARING:
      done = file.sharing !== 'PUBLIC' && file.sharing !== 'EXTERNAL';
      break;
    default: {
      // Overwrite: the content is this action's notice (fixed per action) or it is not.
      const content = await connector.downloadFile(id);
      done = content.bytes.equals(Buffer.from(overwriteNotice(action), 'utf8'));
    }
  }
  return { missing: false, done, record: file };
}

const isUser = (r: Outcome): r is ProviderUser => r !== null && 'displayName' in r;
const isFile = (r: Outcome): r is ProviderFile => r !== null && 'contentVersion' in r;
const isGrant = (r: Outcome): r is ProviderGrant => r !== null && 'clientId' in r;

const ACCOUNT_STATUS: Record<ProviderUser['status'], AccountStatus> = {
  ACTIVE: AccountStatus.ACTIVE,
  SUSPENDED: AccountStatus.SUSPENDED,
  DISABLED: AccountStatus.DISABLED,
};

/** Applies the effect to the owning module's data and ends the action with its event, in one transaction. */
async function succeed(services: GovernanceServices, action: GovernanceRecord, target: Target, outcome: Outcome): Promise<void> {
  await services.transaction(async (trx) => {
    await applyEffect(services, trx, action, target, outcome);
    await services.governance().finish(trx, action.id, { status: GovernanceStatus.SUCCEEDED });
  });
  logger.info({ actionId: action.id, type: action.type, attempts: action.attempts }, 'governance action succeeded');
}

async function applyEffect(
  services: GovernanceServices,
  trx: Knex.Transaction,
  action: GovernanceRecord,
  target: Target,
  outcome: Outcome,
): Promise<void> {
  switch (action.type) {
    case GovernanceActionType.SUSPEND_ACCOUNT:
    case GovernanceActionType.UNSUSPEND_ACCOUNT: {
      const status = isUser(outcome)
        ? ACCOUNT_STATUS[outcome.status]
        : action.type === GovernanceActionType.SUSPEND_ACCOUNT
          ? AccountStatus.SUSPENDED
          : AccountStatus.ACTIVE;
      return services.accounts().setAccountStatus(action.targetId, status, trx);
    }
    case GovernanceActionType.REQUIRE_PASSWORD_RESET:
      return; // sessions and passwords live at the provider; the governance log records it
    case GovernanceActionType.REVOKE_APP_PERMISSION:
      if (!isGrant(outcome) || outcome.revoked) await services.grants().setRevoked(action.targetId, trx);
      return;
    default: {
      const files = services.files();
      if (isFile(outcome)) {
        return files.setState(
          action.targetId,
          {
            trashed: outcome.trashed,
            quarantined: outcome.quarantined,
            sharing: SharingLevel[outcome.sharing],
            collaborators: outcome.collaborators,
            path: outcome.path,
            modifiedAt: new Date(outcome.modifiedAt),
            contentVersion: outcome.contentVersion,
          },
          trx,
        );
      }
      return files.setState(action.targetId, expectedFileEffect(action.type, target), trx);
    }
  }
}

/** The effect of a file action when the provider answered without the file's record. */
function expectedFileEffect(
  type: GovernanceActionType,
  target: Target,
): { trashed?: boolean; quarantined?: boolean; sharing?: SharingLevel } {
  switch (type) {
    case GovernanceActionType.QUARANTINE_FILE:
      return { quarantined: true };
    case GovernanceActionType.RESTORE_FILE:
      return { quarantined: false, trashed: false };
    case GovernanceActionType.TRASH_FILE:
      return { trashed: true };
    case GovernanceActionType.REMOVE_EXTERNAL_SHARING:
      return { sharing: target.sharing === SharingLevel.PUBLIC ? SharingLevel.INTERNAL : SharingLevel.PRIVATE };
    default:
      return {};
  }
}

async function fail(services: GovernanceServices, action: GovernanceRecord, error: string): Promise<void> {
  await services.transaction((trx) => services.governance().finish(trx, action.id, { status: GovernanceStatus.FAILED, error }));
  logger.warn({ actionId: action.id, type: action.type, attempts: action.attempts, error }, 'governance action failed');
}
