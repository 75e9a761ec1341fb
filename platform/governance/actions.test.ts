import { describe, expect, it } from 'vitest';
import { GOVERNANCE_ACTIONS, GovernanceActionType as T, refusalOf, type TargetState } from './actions.js';

const account = (status: 'ACTIVE' | 'SUSPENDED' | 'DISABLED'): TargetState => ({ kind: 'account', status });
const file = (
  patch: Partial<{ sharing: 'PRIVATE' | 'INTERNAL' | 'EXTERNAL' | 'PUBLIC'; trashed: boolean; quarantined: boolean }> = {},
): TargetState => ({
  kind: 'file',
  sharing: 'PRIVATE',
  trashed: false,
  quarantined: false,
  ...patch,
});

describe('governance actions', () => {
  it('names a target kind and a capability for every action type', () => {
    for (const type of Object.values(T)) expect(GOVERNANCE_ACTIONS[type]).toBeDefined();
  });

  it('refuses an action whose target is already in the state it leads to, and nothing else', () => {
    expect(refusalOf(T.SUSPEND_ACCOUNT, account('SUSPENDED'))).toBe('is already SUSPENDED');
    expect(refusalOf(T.SUSPEND_ACCOUNT, account('DISABLED'))).toBe('is DISABLED at the provider');
    expect(refusalOf(T.SUSPEND_ACCOUNT, account('ACTIVE'))).toBeNull();
    expect(refusalOf(T.UNSUSPEND_ACCOUNT, account('ACTIVE'))).toBe('is ACTIVE, not SUSPENDED');
    expect(refusalOf(T.UNSUSPEND_ACCOUNT, account('SUSPENDED'))).toBeNull();
    expect(refusalOf(T.REQUIRE_PASSWORD_RESET, account('SUSPENDED'))).toBeNull();
    expect(refusalOf(T.REVOKE_APP_PERMISSION, { kind: 'appPermission', revoked: true })).toBe('is already revoked');
    expect(refusalOf(T.REVOKE_APP_PERMISSION, { kind: 'appPermission', revoked: false })).toBeNull();
    expect(refusalOf(T.QUARANTINE_FILE, file({ quarantined: true }))).toBe('is already quarantined');
    expect(refusalOf(T.QUARANTINE_FILE, file({ trashed: true }))).toBeNull(); // trashed files can be quarantined
    expect(refusalOf(T.RESTORE_FILE, file())).toBe('is neither quarantined nor trashed');
    expect(refusalOf(T.RESTORE_FILE, file({ trashed: true }))).toBeNull();
    expect(refusalOf(T.TRASH_FILE, file({ trashed: true }))).toBe('is already trashed');
    expect(refusalOf(T.REMOVE_EXTERNAL_SHARING, file({ sharing: 'INTERNAL' }))).toBe('is not shared externally (sharing INTERNAL)');
    expect(refusalOf(T.REMOVE_EXTERNAL_SHARING, file({ sharing: 'PUBLIC' }))).toBeNull();
    expect(refusalOf(T.OVERWRITE_FILE, file({ quarantined: true, trashed: true }))).toBeNull();
  });
});
