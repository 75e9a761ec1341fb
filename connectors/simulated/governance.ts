import { ApiError } from './api-error.js';
import { etagOf } from './content.js';
import type { SimFile, TargetType } from './model.js';
import type { TenantState } from './tenant-state.js';

/**
 * Governance actions that really change the tenant, each leaving an ADMIN audit event by the API
 * client (actor null), as Google's and Microsoft's admin logs do for API-made changes. Actions are
 * idempotent: suspending a suspended user answers OK and changes nothing more.
 */

function audit(state: TenantState, action: string, type: TargetType, id: string, now: number, details: Record<string, string> = {}): void {
  state.recordEvent({
    category: 'ADMIN',
    action,
    actor: null,
    occurredAt: now,
    target: { type, id },
    details: { via: 'api', ...details },
    scenario: 'governance',
  });
}

export function suspendUser(state: TenantState, id: string, now: number): void {
  const user = state.user(id);
  user.status = 'SUSPENDED';
  audit(state, 'admin.user.suspend', 'user', id, now);
  state.userChanged(user);
}

export function unsuspendUser(state: TenantState, id: string, now: number): void {
  const user = state.user(id);
  user.status = 'ACTIVE';
  audit(state, 'admin.user.unsuspend', 'user', id, now);
  state.userChanged(user);
}

/** Ends the user's sessions and requires a new password. */
export function resetPassword(state: TenantState, id: string, now: number): void {
  const user = state.user(id);
  user.passwordResetRequired = true;
  user.sessionsRevokedAt = new Date(now).toISOString();
  audit(state, 'admin.user.password_reset', 'user', id, now, { sessionsEnded: 'true' });
  state.userChanged(user);
}

/** Revokes an OAuth grant: it stays listed with `revoked: true`. */
export function revokeGrant(state: TenantState, id: string, now: number): void {
  const grant = state.grant(id);
  if (!grant.revoked) {
    grant.revoked = true;
    grant.revokedAt = new Date(now).toISOString();
  }
  audit(state, 'admin.grant.revoke', 'grant', id, now, { app: grant.appName });
  state.grantChanged(grant);
}

function changed(state: TenantState, file: SimFile, action: string, now: number, details: Record<string, string> = {}): void {
  file.modifiedAt = new Date(now).toISOString();
  audit(state, action, 'file', file.id, now, details);
  state.fileChanged(file, now);
}

/** Moves the file to the admin quarantine folder (trashed files too); restore brings it back. */
export function quarantineFile(state: TenantState, id: string, now: number): void {
  const file = state.file(id);
  if (!file.quarantined) {
    file.pathBeforeQuarantine = file.path;
    file.path = `/Quarantine/${file.id}/${file.name}`;
    file.quarantined = true;
  }
  changed(state, file, 'admin.file.quarantine', now);
}

/** Takes the file out of quarantine and out of the trash, back to its old path. */
export function restoreFile(state: TenantState, id: string, now: number): void {
  const file = state.file(id);
  if (file.quarantined) {
    file.path = file.pathBeforeQuarantine ?? file.path;
    file.pathBeforeQuarantine = null;
    file.quarantined = false;
  }
  file.trashed = false;
  changed(state, file, 'admin.file.restore', now);
}

export function trashFile(state: TenantState, id: string, now: number): void {
  const file = state.file(id);
  file.trashed = true;
  changed(state, file, 'admin.file.trash', now);
}

/** PUBLIC becomes INTERNAL, EXTERNAL becomes PRIVATE; collaborators outside the domain go. */
export function removeExternalSharing(state: TenantState, id: string, now: number): void {
  const file = state.file(id);
  const before = file.sharing;
  if (file.sharing === 'PUBLIC') file.sharing = 'INTERNAL';
  else if (file.sharing === 'EXTERNAL') file.sharing = 'PRIVATE';
  file.collaborators = file.collaborators.filter((email) => email.toLowerCase().endsWith(`@${state.domain}`));
  changed(state, file, 'admin.file.remove_external_sharing', now, { before, after: file.sharing });
}

/** Longest notice an overwrite accepts. */
export const MAX_NOTICE_LENGTH = 10_000;

/** Replaces the content with `notice`; the content before the first overwrite is kept (truth: `original`). */
export function overwriteFile(state: TenantState, id: string, notice: unknown, now: number): void {
  const file = state.file(id);
  if (typeof notice !== 'string' || notice.trim() === '' || notice.length > MAX_NOTICE_LENGTH) {
    throw new ApiError(400, 'invalid_request', `notice: must be a non-empty string of at most ${MAX_NOTICE_LENGTH} characters`);
  }
  file.original ??= { content: file.content, mimeType: file.mimeType, etag: file.etag, planted: file.planted };
  file.content = notice;
  file.mimeType = 'text/plain';
  file.etag = etagOf(notice);
  file.planted = [];
  file.revision++;
  changed(state, file, 'admin.file.overwrite', now);
}
