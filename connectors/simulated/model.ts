/**
 * The simulated provider's state, as the generator makes it and the ground truth shows it. Deleted
 * things stay here with `deleted: true` (the API no longer lists them), so tests can see deletions.
 * Times are ISO 8601 strings.
 */

import type { AccountStatus } from '../../platform/vocabulary/account-status.js';
import type { ActivityCategory } from '../../platform/vocabulary/activity-category.js';
import type { SharingLevel } from '../../platform/vocabulary/sharing.js';

export type { SharingLevel };

export type UserStatus = AccountStatus;

export interface SimUser {
  id: string;
  email: string;
  givenName: string;
  familyName: string;
  displayName: string;
  department: string;
  status: UserStatus;
  isAdmin: boolean;
  privileges: string[];
  /** Where the user normally signs in from (ISO 3166 alpha-2). */
  homeCountry: string;
  createdAt: string;
  lastLoginAt: string | null;
  /** Set by reset-password: the user must choose a new password. */
  passwordResetRequired: boolean;
  /** When reset-password last ended the user's sessions. */
  sessionsRevokedAt: string | null;
  deleted: boolean;
}

export interface SimGroup {
  id: string;
  name: string;
  email: string;
  description: string;
  deleted: boolean;
}

export interface Membership {
  groupId: string;
  userId: string;
  role: 'OWNER' | 'MEMBER';
}

/** Kinds of sensitive values planted in file content. */
export type DetectableKind = 'CREDIT_CARD' | 'US_SSN' | 'IBAN' | 'EMAIL' | 'AWS_ACCESS_KEY' | 'PRIVATE_KEY' | 'JWT';

/** A sensitive value deliberately written into a file's content. */
export interface Planted {
  kind: DetectableKind;
  value: string;
}

export type ContentFormat = 'text' | 'csv' | 'json' | 'html';

export interface FileVersion {
  content: string;
  mimeType: string;
  etag: string;
  planted: Planted[];
}

export interface SimFile {
  id: string;
  name: string;
  path: string;
  mimeType: string;
  ownerId: string;
  /** PRIVATE: owner and named internal collaborators; INTERNAL: the whole domain; EXTERNAL: named people outside it; PUBLIC: anyone with the link. */
  sharing: SharingLevel;
  /** Emails of the people it is shared with (outside the domain only when EXTERNAL). */
  collaborators: string[];
  trashed: boolean;
  quarantined: boolean;
  /** The path to go back to on restore, while quarantined. */
  pathBeforeQuarantine: string | null;
  createdAt: string;
  modifiedAt: string;
  /** Increases with every content change. */
  revision: number;
  etag: string;
  content: string;
  /** What sensitive values the current content holds. */
  planted: Planted[];
  /** The content before the first overwrite, kept "in quarantine" (null until overwritten). */
  original: FileVersion | null;
  deleted: boolean;
}

export type GrantRisk = 'LOW' | 'MEDIUM' | 'HIGH';

export interface SimGrant {
  id: string;
  clientId: string;
  appName: string;
  publisher: string | null;
  scopes: string[];
  risk: GrantRisk;
  userId: string;
  grantedAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
  revokedAt: string | null;
  deleted: boolean;
}

export type EventCategory = ActivityCategory;
export type TargetType = 'user' | 'file' | 'group' | 'grant';

/** Why the generator made an event; only the ground truth shows it, never the API. */
export type EventScenario = 'normal' | 'new_country' | 'failed_storm' | 'download_burst' | 'role_assign' | 'live' | 'governance';

export interface SimEvent {
  id: string;
  category: EventCategory;
  /** Normalized: `user.login`, `file.download`, `file.share`, `admin.role.assign`, ... */
  action: string;
  actorId: string | null;
  actorEmail: string | null;
  occurredAt: string;
  /** When the audit API starts returning it (occurredAt + a lag in [0, auditLagMs]). */
  visibleAt: string;
  ip: string | null;
  country: string | null;
  userAgent: string | null;
  succeeded: boolean;
  targetType: TargetType | null;
  targetId: string | null;
  /** Extra provider fields (role name, sharing level, ...). */
  details: Record<string, string>;
  scenario: EventScenario;
}

/** Everything the tenant holds, deleted things included: `GET /admin/tenants/:id/truth`. */
export interface Truth {
  tenantId: string;
  domain: string;
  users: SimUser[];
  groups: SimGroup[];
  memberships: Membership[];
  /** Every event that occurred so far, visible through the API or not. */
  events: SimEvent[];
  files: SimFile[];
  grants: SimGrant[];
}
