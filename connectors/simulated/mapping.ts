import type { z } from 'zod';
import {
  PermanentError,
  type ProviderEvent,
  type ProviderFile,
  type ProviderGrant,
  type ProviderGroup,
  type ProviderUser,
} from '../contract.js';
import type { WireEvent, WireFile, WireGrant, WireGroup, WireUser } from './wire.js';

/** The simulator's wire records in the contract's words. */

/** Parses a provider answer; a shape the connector does not know is a PermanentError naming the call. */
export function parseAnswer<S extends z.ZodType>(schema: S, body: unknown, call: string): z.output<S> {
  const parsed = schema.safeParse(body);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new PermanentError(`simulated provider: unexpected answer to ${call}: ${issue.path.join('.') || '(body)'}: ${issue.message}`);
}

export function toUser(u: WireUser): ProviderUser {
  return {
    externalId: u.id,
    email: u.email,
    displayName: u.name.full,
    status: u.status === 'active' ? 'ACTIVE' : u.status === 'suspended' ? 'SUSPENDED' : 'DISABLED',
    isAdmin: u.admin,
    privileges: u.adminRoles,
    passwordResetRequired: u.passwordResetRequired,
    sessionsRevokedAt: u.sessionsRevokedAt ?? null,
  };
}

export function toGroup(g: WireGroup): ProviderGroup {
  return { externalId: g.id, name: g.name };
}

export function toGrant(g: WireGrant): ProviderGrant {
  return {
    externalId: g.id,
    appName: g.appDisplayName,
    clientId: g.clientId,
    publisher: g.publisher,
    scopes: g.scope.split(' ').filter(Boolean),
    userExternalId: g.userId,
    grantedAt: g.createdAt,
    lastUsedAt: g.lastUsedAt,
    revoked: g.revoked,
  };
}

export function toEvent(e: WireEvent): ProviderEvent {
  return {
    externalId: e.id,
    category: e.category,
    action: e.type,
    actorExternalId: e.actor?.id ?? null,
    occurredAt: e.time,
    ipAddress: e.ipAddress,
    country: e.geo?.country ?? null,
    userAgent: e.userAgent,
    succeeded: e.outcome === 'success',
    targetType: e.target?.type ?? null,
    targetId: e.target?.id ?? null,
    fileExternalId: e.target?.type === 'file' ? e.target.id : null,
    raw: e,
  };
}

export function toFile(f: WireFile): ProviderFile {
  return {
    externalId: f.id,
    name: f.name,
    path: f.path,
    mimeType: f.mimeType,
    sizeBytes: f.size,
    ownerExternalId: f.ownerId,
    sharing:
      f.sharing.level === 'private'
        ? 'PRIVATE'
        : f.sharing.level === 'internal'
          ? 'INTERNAL'
          : f.sharing.level === 'external'
            ? 'EXTERNAL'
            : 'PUBLIC',
    collaborators: f.sharing.with,
    trashed: f.trashed,
    quarantined: f.quarantined,
    modifiedAt: f.modifiedAt,
    contentVersion: f.etag,
  };
}
