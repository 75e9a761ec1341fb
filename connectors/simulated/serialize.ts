import type { Membership, SimEvent, SimFile, SimGrant, SimGroup, SimUser } from './model.js';
import type { WireEvent, WireFile, WireGrant, WireGroup, WireMember, WireUser } from './wire.js';

/** The tenant's records as the API shows them (see wire.ts). */

export function wireUser(u: SimUser): WireUser {
  return {
    id: u.id,
    email: u.email,
    name: { given: u.givenName, family: u.familyName, full: u.displayName },
    department: u.department,
    status: u.status === 'ACTIVE' ? 'active' : u.status === 'SUSPENDED' ? 'suspended' : 'disabled',
    admin: u.isAdmin,
    adminRoles: [...u.privileges],
    country: u.homeCountry,
    createdAt: u.createdAt,
    lastLoginAt: u.lastLoginAt,
    passwordResetRequired: u.passwordResetRequired,
    sessionsRevokedAt: u.sessionsRevokedAt,
  };
}

export function wireGroup(g: SimGroup): WireGroup {
  return { id: g.id, name: g.name, email: g.email, description: g.description };
}

export function wireMember(m: Membership): WireMember {
  return { userId: m.userId, role: m.role === 'OWNER' ? 'owner' : 'member' };
}

export function wireGrant(g: SimGrant): WireGrant {
  return {
    id: g.id,
    clientId: g.clientId,
    appDisplayName: g.appName,
    publisher: g.publisher,
    scope: g.scopes.join(' '),
    userId: g.userId,
    createdAt: g.grantedAt,
    lastUsedAt: g.lastUsedAt,
    revoked: g.revoked,
  };
}

export function wireEvent(e: SimEvent): WireEvent {
  return {
    id: e.id,
    category: e.category,
    type: e.action,
    actor: e.actorId ? { id: e.actorId, email: e.actorEmail } : null,
    time: e.occurredAt,
    ipAddress: e.ip,
    geo: e.country ? { country: e.country } : null,
    userAgent: e.userAgent,
    outcome: e.succeeded ? 'success' : 'failure',
    target: e.targetType && e.targetId ? { type: e.targetType, id: e.targetId } : null,
    details: { ...e.details },
  };
}

export function wireFile(f: SimFile): WireFile {
  return {
    id: f.id,
    name: f.name,
    path: f.path,
    mimeType: f.mimeType,
    size: Buffer.byteLength(f.content),
    ownerId: f.ownerId,
    sharing: { level: f.sharing.toLowerCase() as WireFile['sharing']['level'], with: [...f.collaborators] },
    trashed: f.trashed,
    quarantined: f.quarantined,
    createdAt: f.createdAt,
    modifiedAt: f.modifiedAt,
    etag: f.etag,
    revision: f.revision,
  };
}
