import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { startTrustedGoogle, type TrustedGoogleEmulator } from './google-emulator.js';
import { allNodes, waitConnected } from './truth.js';

/** The planted kinds of the emulator, as the data scan names them. */
const TYPES = { credit_card: 'CREDIT_CARD_NUMBER', ssn: 'US_SSN', iban: 'IBAN' } as const;

/**
 * A connected Google Workspace instance's data scan through Tenantwatch's scheduler: Google Docs,
 * Sheets and Slides have no content of their own, so they are exported to text (Sheets as CSV) and the
 * detectors find what the emulator planted in them, as in binary files.
 */
describe('the data scan of a Google Workspace instance', () => {
  let g: TrustedGoogleEmulator;
  let t: TestStack;
  let caDir: string;

  beforeAll(async () => {
    g = await startTrustedGoogle({ users: 10, files: 24, sharedDrives: 0, groups: 2, tokens: 4, backfillDays: 0 });
    caDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-google-ca-'));
    fs.writeFileSync(path.join(caDir, 'emulator.pem'), g.tls.cert);
    t = await startTestStack({ CONNECTOR_CA_FILE: path.join(caDir, 'emulator.pem') }, { scheduler: true });
  }, 120_000);

  afterAll(async () => {
    await t?.stop();
    await g?.stop();
    if (caDir) fs.rmSync(caDir, { recursive: true, force: true });
  });

  it('exports Docs Editors files and finds the sensitive data planted in them', async () => {
    const { connectApp } = await t.query<{ connectApp: { id: string } }>(
      `mutation ($config: JSON!) { connectApp(input: { provider: "google", name: "acme", config: $config }) { id } }`,
      { config: g.config() },
    );
    await waitConnected(t, connectApp.id);
    const planted = g.control.truth().files.filter((f) => f.planted.length > 0 && !f.folder);
    const docs = planted.filter((f) => f.googleDoc);
    expect(docs.length).toBeGreaterThan(0);
    const scanned = await waitFor(
      'every planted file scanned',
      async () => {
        const files = await allNodes<{
          externalId: string;
          lastScannedAt: string | null;
          sensitiveMatches: { type: string; count: number }[];
        }>(t, 'files', `filter: { instanceId: "${connectApp.id}" }`, 'externalId lastScannedAt sensitiveMatches { type count }');
        const byId = new Map(files.map((f) => [f.externalId, f]));
        return planted.every((p) => byId.get(p.id)?.lastScannedAt) ? byId : undefined;
      },
      120_000,
      500,
    );
    for (const file of planted) {
      const found = scanned
        .get(file.id)!
        .sensitiveMatches.filter((m) => m.count > 0)
        .map((m) => m.type);
      for (const kind of file.planted) expect(found, `${file.name} (${file.mimeType})`).toContain(TYPES[kind]);
    }
  }, 180_000);
});
