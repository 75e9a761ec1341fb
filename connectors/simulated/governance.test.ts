import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError, type Connector } from '../contract.js';
import { simulatedConnectorFactory } from './connector.js';
import { directHttp } from './direct-http.js';
import type { Simulator } from './server.js';
import { call, ManualClock, simulator, smallTenant } from './test-support.js';

const stops: (() => Promise<void>)[] = [];
const track = (stop: () => Promise<void>) => stops.push(stop);
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

const TOKEN = 'acme-test-token';

async function setup(): Promise<{ sim: Simulator; connector: Connector; clock: ManualClock }> {
  const clock = new ManualClock();
  const sim = await simulator(track, { clock: clock.now, tenants: [smallTenant({ files: 60 })] });
  const config = simulatedConnectorFactory.validateConfig({ endpoint: sim.url, token: TOKEN });
  return { sim, clock, connector: simulatedConnectorFactory.create(config, directHttp(simulatedConnectorFactory, config)) };
}

/** Successful calls of one governance endpoint so far. */
const counted = (sim: Simulator, route: string) => sim.tenant('acme').stats().governance[route] ?? 0;

describe('governance through the API', () => {
  it('suspends, unsuspends and resets passwords for real, counted per endpoint', async () => {
    const { sim, connector, clock } = await setup();
    const user = sim
      .tenant('acme')
      .truth()
      .users.find((u) => u.status === 'ACTIVE' && !u.isAdmin)!;
    await connector.suspendUser(user.id);
    expect(
      sim
        .tenant('acme')
        .truth()
        .users.find((u) => u.id === user.id)!.status,
    ).toBe('SUSPENDED');
    expect((await connector.getUser(user.id))!.status).toBe('SUSPENDED');
    await connector.suspendUser(user.id); // idempotent
    expect(counted(sim, 'POST /api/v1/users/:id/suspend')).toBe(2);

    await connector.unsuspendUser(user.id);
    expect(
      sim
        .tenant('acme')
        .truth()
        .users.find((u) => u.id === user.id)!.status,
    ).toBe('ACTIVE');
    expect(counted(sim, 'POST /api/v1/users/:id/unsuspend')).toBe(1);

    await connector.requirePasswordReset(user.id);
    const reset = sim
      .tenant('acme')
      .truth()
      .users.find((u) => u.id === user.id)!;
    expect(reset).toMatchObject({ passwordResetRequired: true, sessionsRevokedAt: new Date(clock.now()).toISOString() });
    expect(counted(sim, 'POST /api/v1/users/:id/reset-password')).toBe(1);

    const audit = sim
      .tenant('acme')
      .truth()
      .events.filter((e) => e.scenario === 'governance')
      .map((e) => e.action);
    expect(audit).toEqual(['admin.user.suspend', 'admin.user.suspend', 'admin.user.unsuspend', 'admin.user.password_reset']);
  });

  it('revokes a grant, which stays listed as revoked', async () => {
    const { sim, connector } = await setup();
    const grant = sim.tenant('acme').truth().grants[0]!;
    await connector.revokeGrant(grant.id);
    expect(
      sim
        .tenant('acme')
        .truth()
        .grants.find((g) => g.id === grant.id),
    ).toMatchObject({ revoked: true, revokedAt: expect.any(String), deleted: false });
    expect((await connector.getGrant(grant.id))!.revoked).toBe(true);
    expect(counted(sim, 'DELETE /api/v1/oauth-grants/:id')).toBe(1);
  });

  it('quarantines (trashed files too), restores, trashes and removes external sharing', async () => {
    const { sim, connector } = await setup();
    const truth = () => sim.tenant('acme').truth();
    const file = truth().files.find((f) => !f.trashed)!;

    await connector.quarantineFile(file.id);
    expect(truth().files.find((f) => f.id === file.id)).toMatchObject({
      quarantined: true,
      path: `/Quarantine/${file.id}/${file.name}`,
      pathBeforeQuarantine: file.path,
    });
    await connector.restoreFile(file.id);
    expect(truth().files.find((f) => f.id === file.id)).toMatchObject({ quarantined: false, trashed: false, path: file.path });

    await connector.trashFile(file.id);
    expect(truth().files.find((f) => f.id === file.id)!.trashed).toBe(true);
    await connector.quarantineFile(file.id);
    expect(truth().files.find((f) => f.id === file.id)).toMatchObject({ trashed: true, quarantined: true });
    await connector.restoreFile(file.id);
    expect(truth().files.find((f) => f.id === file.id)).toMatchObject({ trashed: false, quarantined: false });

    const external = truth().files.find((f) => f.sharing === 'EXTERNAL')!;
    const publicFile = truth().files.find((f) => f.sharing === 'PUBLIC')!;
    await connector.removeExternalSharing(external.id);
    await connector.removeExternalSharing(publicFile.id);
    const after = truth().files;
    const fixedExternal = after.find((f) => f.id === external.id)!;
    expect(fixedExternal.sharing).toBe('PRIVATE');
    expect(fixedExternal.collaborators.every((c) => c.endsWith('@acme.example.com'))).toBe(true);
    expect(fixedExternal.collaborators).toEqual(external.collaborators.filter((c) => c.endsWith('@acme.example.com')));
    expect(after.find((f) => f.id === publicFile.id)!.sharing).toBe('INTERNAL');
    expect((await connector.getFile(external.id))!.sharing).toBe('PRIVATE');

    const stats = sim.tenant('acme').stats().governance;
    expect(stats).toMatchObject({
      'POST /api/v1/files/:id/quarantine': 2,
      'POST /api/v1/files/:id/restore': 2,
      'POST /api/v1/files/:id/trash': 1,
      'POST /api/v1/files/:id/remove-external-sharing': 2,
    });
  });

  it('overwrites content with a notice and keeps the original in quarantine, visible in the truth', async () => {
    const { sim, connector } = await setup();
    const file = sim
      .tenant('acme')
      .truth()
      .files.find((f) => f.planted.some((p) => p.kind === 'CREDIT_CARD'))!;
    const notice = 'This file was removed by your security team.';
    await connector.overwriteFile(file.id, notice);
    const content = await connector.downloadFile(file.id);
    expect(content).toEqual({ bytes: Buffer.from(notice), mimeType: 'text/plain' });
    const after = sim
      .tenant('acme')
      .truth()
      .files.find((f) => f.id === file.id)!;
    expect(after).toMatchObject({ content: notice, planted: [], revision: file.revision + 1 });
    expect(after.original).toEqual({ content: file.content, mimeType: file.mimeType, etag: file.etag, planted: file.planted });
    expect((await connector.getFile(file.id))!.contentVersion).not.toBe(file.etag);

    await connector.overwriteFile(file.id, 'Second notice.');
    expect(
      sim
        .tenant('acme')
        .truth()
        .files.find((f) => f.id === file.id)!.original!.content,
    ).toBe(file.content);
    expect(counted(sim, 'POST /api/v1/files/:id/overwrite')).toBe(2);

    const empty = await call<{ message: string }>(sim.url, `/api/v1/files/${file.id}/overwrite`, TOKEN, {
      method: 'POST',
      body: { notice: '' },
    });
    expect([empty.status, empty.body.message]).toEqual([400, 'notice: must be a non-empty string of at most 10000 characters']);
  });

  it('answers 404 not_found for unknown ids, which the connector reports with the provider message (or null on reads)', async () => {
    const { sim, connector } = await setup();
    const failure = await connector.suspendUser('usr_nope').catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PermanentError);
    expect(failure).toMatchObject({ status: 404, message: expect.stringContaining('user usr_nope not found') });
    await expect(connector.quarantineFile('fil_nope')).rejects.toMatchObject({ status: 404 });
    await expect(connector.revokeGrant('gnt_nope')).rejects.toMatchObject({ status: 404 });
    expect(await connector.getUser('usr_nope')).toBeNull();
    expect(await connector.getFile('fil_nope')).toBeNull();
    expect(await connector.getGrant('gnt_nope')).toBeNull();
    const stats = sim.tenant('acme').stats();
    expect(stats.routes['POST /api/v1/users/:id/suspend']!.statuses).toEqual({ '404': 1 });
    expect(stats.governance['POST /api/v1/users/:id/suspend']).toBeUndefined();
  });
});
