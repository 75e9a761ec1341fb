import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CursorExpiredError, type Connector, type UserChange } from '../connectors/contract.js';
import { type M365Emulator, type M365TenantControl } from '../emulators/m365/index.js';
import { startTrustedM365, type TrustedM365Emulator } from './m365-emulator.js';

/** The directory's change feed (Graph users delta) against the emulator: started at "now", changes and deletions after it, paged. */

const TENANT_ID = '8a9b0c1d-2e3f-4a4b-9c5d-6e7f8a9b0c1d';
const CLIENT_ID = '9b0c1d2e-3f4a-4b5c-8d6e-7f8a9b0c1d2e';
const SECRET = 'users-delta-secret';

let emulator: M365Emulator;
let m365: TrustedM365Emulator;
let tenant: M365TenantControl;

beforeAll(async () => {
  m365 = await startTrustedM365({
    tenants: [{ tenantId: TENANT_ID, users: 12, files: 1, maxPageSize: 2, clients: [{ clientId: CLIENT_ID, clientSecret: SECRET }] }],
  });
  emulator = m365.emulator;
  tenant = emulator.tenant(TENANT_ID);
});

afterAll(async () => {
  await m365?.stop();
});

const connector = (): Connector => m365.connector({ tenantId: TENANT_ID, clientId: CLIENT_ID, clientSecret: SECRET }).connector;

async function changesAfter(c: Connector, cursor: string): Promise<{ changes: UserChange[]; cursor: string; pages: number }> {
  const changes: UserChange[] = [];
  let page: string | null = null;
  let pages = 0;
  for (;;) {
    const result = await c.readUserChanges!(cursor, page);
    changes.push(...result.changes);
    pages++;
    if (!result.next) return { changes, cursor: result.deltaCursor!, pages };
    page = result.next;
  }
}

describe('Microsoft 365 users delta', () => {
  it('starts at "now", then answers only the users changed since, each whole, and deletions, paged', async () => {
    const c = connector();
    const start = await c.readUserChanges!(null, null);
    expect(start.changes).toEqual([]);
    expect(start.deltaCursor).toMatch(/\/users\/delta\?\$deltatoken=/);
    expect((await changesAfter(c, start.deltaCursor!)).changes).toEqual([]);

    const members = tenant.truth().users.filter((u) => u.userType === 'Member' && u.accountEnabled);
    const [suspended, reset, removed] = members;
    await c.suspendUser(suspended!.id);
    await c.requirePasswordReset(reset!.id);
    tenant.remove('user', removed!.id);
    const round = await changesAfter(c, start.deltaCursor!);
    expect(round.pages).toBeGreaterThan(1);
    const byId = new Map(round.changes.map((change) => [change.kind === 'upsert' ? change.user.externalId : change.externalId, change]));
    expect(byId.size).toBe(3);
    expect(byId.get(suspended!.id)).toMatchObject({ kind: 'upsert', user: { status: 'SUSPENDED', email: expect.any(String) } });
    expect(byId.get(reset!.id)).toMatchObject({ kind: 'upsert', user: { status: 'ACTIVE', passwordResetRequired: true } });
    expect(byId.get(removed!.id)).toEqual({ kind: 'deleted', externalId: removed!.id });

    // The next round starts where this one ended.
    expect((await changesAfter(c, round.cursor)).changes).toEqual([]);
  });

  it('says the cursor expired when Graph no longer knows it', async () => {
    const c = connector();
    await expect(c.readUserChanges!(`${emulator.graphEndpoint}/v1.0/users/delta?$deltatoken=bm90LWEtdG9rZW4`, null)).rejects.toBeInstanceOf(
      CursorExpiredError,
    );
  });
});
