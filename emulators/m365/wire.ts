import type * as Graph from '@microsoft/microsoft-graph-types';
import type { EmuAudit, EmuGrant, EmuGroup, EmuItem, EmuSignIn, EmuUser, TenantState } from './tenant.js';

/** The emulator's records in Graph v1.0's wire shapes (typed with @microsoft/microsoft-graph-types). */

export const wireUser = (u: EmuUser): Graph.User => ({
  id: u.id,
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
  mail: u.mail,
  userType: u.userType,
  accountEnabled: u.accountEnabled,
  createdDateTime: u.createdDateTime,
  passwordProfile: { forceChangePasswordNextSignIn: u.forceChangePasswordNextSignIn },
  signInSessionsValidFromDateTime: u.signInSessionsValidFromDateTime,
});

export const wireGroup = (g: EmuGroup): Graph.Group => ({
  id: g.id,
  displayName: g.displayName,
  securityEnabled: true,
  mailEnabled: false,
});

export const wireMember = (u: EmuUser): Graph.User & { '@odata.type': string } => ({
  '@odata.type': '#microsoft.graph.user',
  id: u.id,
  displayName: u.displayName,
  userPrincipalName: u.userPrincipalName,
});

export const wireGrant = (g: EmuGrant): Graph.OAuth2PermissionGrant => ({
  id: g.id,
  clientId: g.clientId,
  consentType: g.consentType,
  principalId: g.principalId,
  resourceId: g.resourceId,
  scope: ` ${g.scope} `.trim(),
});

export const wireSignIn = (s: EmuSignIn): Graph.SignIn => ({
  id: s.id,
  createdDateTime: s.createdDateTime,
  userId: s.userId,
  userPrincipalName: s.userPrincipalName,
  appDisplayName: s.appDisplayName,
  ipAddress: s.ipAddress,
  clientAppUsed: s.clientAppUsed,
  location: { countryOrRegion: s.countryOrRegion },
  status: { errorCode: s.errorCode, failureReason: s.errorCode ? 'Invalid username or password.' : 'Other.' },
});

export const wireAudit = (a: EmuAudit): Graph.DirectoryAudit => ({
  id: a.id,
  activityDateTime: a.activityDateTime,
  activityDisplayName: a.activityDisplayName,
  category: a.category,
  result: a.result,
  loggedByService: 'Core Directory',
  initiatedBy: a.initiatedBy ? { user: { id: a.initiatedBy } } : {},
  targetResources: a.targetId ? [{ id: a.targetId, type: a.targetType }] : [],
});

export function wireItem(state: TenantState, item: EmuItem): Graph.DriveItem & Record<string, unknown> {
  if (item.deleted) return { id: item.id, deleted: { state: 'deleted' }, parentReference: { driveId: item.driveId, id: item.parentId } };
  const owner = state.users.find((u) => u.id === item.ownerId);
  const shared = state.sharedScope(item);
  return {
    id: item.id,
    name: item.name,
    eTag: `"{${item.id}},${item.eTag}"`,
    cTag: `"c:{${item.id}},${item.eTag}"`,
    size: item.content.length,
    description: item.description,
    lastModifiedDateTime: item.lastModifiedDateTime,
    parentReference: { driveId: item.driveId, id: item.parentId || undefined, path: item.parentId ? state.pathOf(item) : undefined },
    ...(item.parentId === '' ? { root: {} } : {}),
    ...(item.folder
      ? { folder: { childCount: [...state.items.values()].filter((i) => i.parentId === item.id && !i.deleted).length } }
      : {}),
    ...(!item.folder ? { file: { mimeType: item.mimeType, hashes: { sha1Hash: state.contentHash(item).toUpperCase() } } } : {}),
    ...(shared ? { shared: { scope: shared } } : {}),
    ...(owner ? { createdBy: { user: { id: owner.id, displayName: owner.displayName } } } : {}),
  };
}

export const wirePermission = (p: ReturnType<() => EmuItem['permissions'][number]>): Graph.Permission => ({
  id: p.id,
  roles: p.roles,
  ...(p.link ? { link: { scope: p.link.scope, type: p.link.type, webUrl: `https://contoso.example.com/s/${p.id}` } } : {}),
  ...(p.grantedTo
    ? {
        grantedToV2: {
          user: { id: p.grantedTo.id ?? undefined, displayName: p.grantedTo.displayName, email: p.grantedTo.email } as Graph.Identity,
        },
      }
    : {}),
});
