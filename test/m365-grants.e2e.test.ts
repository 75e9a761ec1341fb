import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialError, type Connector, type ProviderGrant } from '../connectors/contract.js';
import { permissionLevelOf } from '../connectors/permission-level.js';
import { GRAPH_PERMISSIONS, type M365TenantControl } from '../emulators/m365/index.js';
import { startTrustedM365, type TrustedM365Emulator } from './m365-emulator.js';

/**
 * App permissions of both kinds against the emulator: delegated grants (an app acting for users) and
 * application permissions of Microsoft Graph (an app acting on its own, for the whole tenant), each
 * read, looked up and revoked at the provider exactly once.
 */

const TENANT_ID = '5d6e7f8a-9b0c-4d1e-8f2a-3b4c5d6e7f8a';
const CLIENT_ID = '6e7f8a9b-0c1d-4e2f-9a3b-4c5d6e7f8a9b';
const NO_APP_ROLES = '7f8a9b0c-1d2e-4f3a-8b4c-5d6e7f8a9b0c';
const SECRET = 'grants-test-secret';

let m365: TrustedM365Emulator;
let tenant: M365TenantControl;

beforeAll(async () => {
  m365 = await startTrustedM365({
    tenants: [
      {
        tenantId: TENANT_ID,
        users: 10,
        files: 2,
        apps: 4,
        grants: 7,
        appRoleApps: 2,
        maxPageSize: 2,
        clients: [
          { clientId: CLIENT_ID, clientSecret: SECRET },
          { clientId: NO_APP_ROLES, clientSecret: SECRET, roles: GRAPH_PERMISSIONS.filter((p) => p !== 'AppRoleAssignment.ReadWrite.All') },
        ],
      },
    ],
  });
  tenant = m365.emulator.tenant(TENANT_ID);
});

afterAll(async () => {
  await m365?.stop();
});

const connector = (clientId = CLIENT_ID): Connector => m365.connector({ tenantId: TENANT_ID, clientId, clientSecret: SECRET }).connector;

async function allGrants(c: Connector): Promise<ProviderGrant[]> {
  const grants: ProviderGrant[] = [];
  let page: string | null = null;
  do {
    const result = await c.listGrants(page);
    grants.push(...result.items);
    page = result.next;
  } while (page);
  return grants;
}

describe('Microsoft 365 app permissions', () => {
  it('lists delegated grants and each application permission of Graph, paged to the end', async () => {
    const truth = tenant.truth();
    const grants = await allGrants(connector());
    const appRoles = grants.filter((g) => g.externalId.startsWith('approle:'));
    expect(grants.length - appRoles.length).toBe(truth.grants.length);
    expect(appRoles.map((g) => g.externalId).sort()).toEqual(
      truth.appRoleAssignments.map((a) => `approle:${a.principalId}/${a.id}`).sort(),
    );
    const overPrivileged = truth.apps[0]!;
    const held = appRoles.filter((g) => g.appName === overPrivileged.displayName);
    expect(held.flatMap((g) => g.scopes).sort()).toEqual(['Files.ReadWrite.All', 'Mail.Read', 'User.Read.All']);
    for (const grant of held) {
      expect(grant).toMatchObject({ clientId: overPrivileged.appId, userExternalId: null, revoked: false });
      expect(grant.grantedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    }
    expect(permissionLevelOf(held.find((g) => g.scopes[0] === 'Files.ReadWrite.All')!.scopes)).toBe('HIGH');
  });

  it('resumes from a page token saved before application permissions were read', async () => {
    const first = await connector().listGrants('/oauth2PermissionGrants?$top=2');
    expect(first.items).toHaveLength(2);
    expect(first.next).not.toBeNull();
  });

  it('looks up and revokes an application permission at the client’s service principal, once', async () => {
    const c = connector();
    const grant = (await allGrants(c)).find((g) => g.externalId.startsWith('approle:') && g.scopes[0] === 'Mail.Read')!;
    expect(await c.getGrant(grant.externalId)).toEqual(grant);
    await expect(connector(NO_APP_ROLES).revokeGrant(grant.externalId)).rejects.toBeInstanceOf(CredentialError);
    await c.revokeGrant(grant.externalId);
    const assignmentId = grant.externalId.slice(grant.externalId.lastIndexOf('/') + 1);
    expect(tenant.truth().governance.filter((g) => g.operation === 'appRoleAssignment.delete' && g.targetId === assignmentId)).toHaveLength(
      1,
    );
    expect(await c.getGrant(grant.externalId)).toBeNull();
    expect((await allGrants(c)).map((g) => g.externalId)).not.toContain(grant.externalId);
  });
});
