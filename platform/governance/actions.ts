import { registerEnumType } from 'type-graphql';
import type { AccountStatus } from '../vocabulary/account-status.js';
import { AppCapability } from '../vocabulary/instance.js';
import type { SharingLevel } from '../vocabulary/sharing.js';

/**
 * The governance vocabulary the subgraphs that own targets (accounts, files, app permissions), the
 * activities subgraph that keeps the log and the scheduler that carries actions out all share.
 */

export const GovernanceActionType = {
  SUSPEND_ACCOUNT: 'SUSPEND_ACCOUNT',
  UNSUSPEND_ACCOUNT: 'UNSUSPEND_ACCOUNT',
  REQUIRE_PASSWORD_RESET: 'REQUIRE_PASSWORD_RESET',
  REVOKE_APP_PERMISSION: 'REVOKE_APP_PERMISSION',
  QUARANTINE_FILE: 'QUARANTINE_FILE',
  RESTORE_FILE: 'RESTORE_FILE',
  TRASH_FILE: 'TRASH_FILE',
  REMOVE_EXTERNAL_SHARING: 'REMOVE_EXTERNAL_SHARING',
  OVERWRITE_FILE: 'OVERWRITE_FILE',
} as const;
export type GovernanceActionType = (typeof GovernanceActionType)[keyof typeof GovernanceActionType];
registerEnumType(GovernanceActionType, {
  name: 'GovernanceActionType',
  description: 'What a governance action does at the provider; each needs its instance to have the matching AppCapability.',
  valuesConfig: {
    SUSPEND_ACCOUNT: { description: 'Blocks the account from signing in (suspendAccount).' },
    UNSUSPEND_ACCOUNT: { description: 'Lifts a suspension (unsuspendAccount).' },
    REQUIRE_PASSWORD_RESET: {
      description: "Ends the account's sessions and forces a new password at next sign-in (requirePasswordReset).",
    },
    REVOKE_APP_PERMISSION: { description: 'Revokes one OAuth grant (revokeAppPermission, revokeApp).' },
    QUARANTINE_FILE: { description: "Moves the file into the provider's admin quarantine (quarantineFile)." },
    RESTORE_FILE: { description: 'Takes the file out of quarantine and out of the trash (restoreFile).' },
    TRASH_FILE: { description: 'Moves the file to the trash (trashFile).' },
    REMOVE_EXTERNAL_SHARING: { description: 'Removes public links and sharing outside the organization (removeExternalSharing).' },
    OVERWRITE_FILE: { description: 'Replaces the content with a notice, the original kept in quarantine (overwriteFile).' },
  },
});

export const GovernanceStatus = {
  PENDING: 'PENDING',
  RUNNING: 'RUNNING',
  SUCCEEDED: 'SUCCEEDED',
  FAILED: 'FAILED',
} as const;
export type GovernanceStatus = (typeof GovernanceStatus)[keyof typeof GovernanceStatus];
registerEnumType(GovernanceStatus, {
  name: 'GovernanceStatus',
  description: 'Where a governance action stands.',
  valuesConfig: {
    PENDING: { description: 'Recorded, not started yet (a dry run stays PENDING: it never runs).' },
    RUNNING: { description: 'Being carried out at the provider, retried on transient failures (`error` says why it waits).' },
    SUCCEEDED: { description: 'Done at the provider; the target shows the change.' },
    FAILED: { description: 'Given up: the provider refused it or the retries ran out (`error` says why).' },
  },
});

export type GovernanceTargetKind = 'account' | 'file' | 'appPermission';

/** What each action acts on and the capability its instance's connector must have been granted. */
export const GOVERNANCE_ACTIONS: Readonly<
  Record<GovernanceActionType, { readonly target: GovernanceTargetKind; readonly capability: AppCapability }>
> = {
  SUSPEND_ACCOUNT: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  UNSUSPEND_ACCOUNT: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  REQUIRE_PASSWORD_RESET: { target: 'account', capability: AppCapability.ACCOUNT_GOVERNANCE },
  REVOKE_APP_PERMISSION: { target: 'appPermission', capability: AppCapability.APP_PERMISSION_GOVERNANCE },
  QUARANTINE_FILE: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  RESTORE_FILE: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  TRASH_FILE: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  REMOVE_EXTERNAL_SHARING: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
  OVERWRITE_FILE: { target: 'file', capability: AppCapability.DATA_GOVERNANCE },
};

/** How a message names a kind of target. */
export const TARGET_NOUN: Readonly<Record<GovernanceTargetKind, string>> = {
  account: 'account',
  file: 'file',
  appPermission: 'app permission',
};

/** What the refusal rules read about a target. */
export type TargetState =
  | { readonly kind: 'account'; readonly status: AccountStatus }
  | { readonly kind: 'file'; readonly sharing: SharingLevel; readonly trashed: boolean; readonly quarantined: boolean }
  | { readonly kind: 'appPermission'; readonly revoked: boolean };

/** The target as the owning subgraph sees it. */
export interface GovernanceTarget {
  readonly id: string;
  readonly instanceId: string;
  /** Gone at the provider (the last scan no longer listed it). */
  readonly deleted: boolean;
  /** How to name it in a message, e.g. `alice@example.com`. */
  readonly label: string;
  readonly state: TargetState;
}

/** Why the target cannot take the action now (it is already in the state the action leads to...), or null. */
export function refusalOf(type: GovernanceActionType, state: TargetState): string | null {
  switch (state.kind) {
    case 'account':
      if (type === GovernanceActionType.SUSPEND_ACCOUNT)
        return state.status === 'SUSPENDED' ? 'is already SUSPENDED' : state.status === 'DISABLED' ? 'is DISABLED at the provider' : null;
      if (type === GovernanceActionType.UNSUSPEND_ACCOUNT) return state.status !== 'SUSPENDED' ? `is ${state.status}, not SUSPENDED` : null;
      return state.status === 'DISABLED' ? 'is DISABLED at the provider' : null;
    case 'appPermission':
      return state.revoked ? 'is already revoked' : null;
    case 'file':
      switch (type) {
        case GovernanceActionType.QUARANTINE_FILE:
          return state.quarantined ? 'is already quarantined' : null;
        case GovernanceActionType.RESTORE_FILE:
          return !state.quarantined && !state.trashed ? 'is neither quarantined nor trashed' : null;
        case GovernanceActionType.TRASH_FILE:
          return state.trashed ? 'is already trashed' : null;
        case GovernanceActionType.REMOVE_EXTERNAL_SHARING:
          return state.sharing === 'PUBLIC' || state.sharing === 'EXTERNAL' ? null : `is not shared externally (sharing ${state.sharing})`;
        default:
          return null;
      }
  }
}
