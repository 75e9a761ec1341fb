import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector, FileContent } from '../../connectors/contract.js';
import { openDatabase, type Database } from '../../platform/database.js';
import { newId } from '../../platform/ids.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';
import { AccountService, accountsModule, ScanKind } from '../../subgraphs/accounts/public.js';
import { activitiesModule, ActivityService, DetectionService, PolicyService } from '../../subgraphs/activities/public.js';
import { AppPermissionService, appPermissionsModule } from '../../subgraphs/app-permissions/public.js';
import { FileService, filesModule } from '../../subgraphs/files/public.js';
import { freshDatabase } from '../../test/harness.js';
import { DataScanPool } from '../data-scan/pool.js';
import { docxOf, zipOf } from '../data-scan/sample-documents.js';
import { PolicyEvaluator } from '../policies/evaluator.js';
import { scanData } from './data.js';
import type { ScanRun } from './scan-run.js';

/**
 * The data scan job on a real PostgreSQL, through the files service and the worker pool: what it stores for
 * files it reads and for files it skips. The provider is a stand-in that serves fixed bytes: the simulated
 * provider serves only text formats, and these files are office documents, a zip bomb and a slow file.
 */

const MIB = 1024 * 1024;
let drop: () => Promise<void>;
const dbs: Database[] = [];
let files: () => FileService;
let evaluator: PolicyEvaluator;
const pool = new DataScanPool({ timeoutMs: 1_000 });

beforeAll(async () => {
  const database = await freshDatabase();
  drop = database.drop;
  const [accounts, activities, filesDb, grants] = await Promise.all(
    [accountsModule, activitiesModule, filesModule, appPermissionsModule].map((module) =>
      openDatabase({ ...module, url: database.url, poolMax: 4 }),
    ),
  );
  dbs.push(accounts!, activities!, filesDb!, grants!);
  files = () => new FileService(filesDb!.fork());
  evaluator = new PolicyEvaluator({
    policies: () => new PolicyService(activities!.fork()),
    detections: () => new DetectionService(activities!.fork()),
    activities: () => new ActivityService(activities!.fork()),
    accounts: () => new AccountService(accounts!.fork()),
    files,
    grants: () => new AppPermissionService(grants!.fork()),
  });
});

afterAll(async () => {
  await pool.close();
  for (const db of dbs) await db.close();
  await drop?.();
});

/** A provider stand-in: only downloadFile, serving `contents` by external id (the data scan calls nothing else). */
function providerServing(contents: ReadonlyMap<string, FileContent>): Connector {
  const downloads = {
    downloadFile: async (externalId: string): Promise<FileContent> => {
      const content = contents.get(externalId);
      if (!content) throw Object.assign(new Error('not found'), { status: 404 });
      return content;
    },
  };
  return downloads as unknown as Connector;
}

function runOf(instanceId: string, connector: Connector): ScanRun<null> {
  return { instanceId, kind: ScanKind.DATA, connector, cursor: null, save: async () => undefined, stopping: () => false };
}

describe('scanData', () => {
  it('stores counts for the files it reads and the reason for those it skips, and retries neither', async () => {
    const instanceId = newId();
    const octet = 'application/octet-stream';
    const contents = new Map<string, FileContent>([
      ['report', { bytes: Buffer.from(docxOf(['SSN 123-45-6789', 'Card 4111 1111 1111 1111'])), mimeType: octet }],
      ['bomb', { bytes: Buffer.from(zipOf({ 'zeros.bin': new Uint8Array(8 * MIB) }, 9)), mimeType: 'application/zip' }],
      ['slow', { bytes: Buffer.from('+1 415 555 2671\n'.repeat((10 * MIB) / 16)), mimeType: 'text/plain' }],
      ['people', { bytes: Buffer.from('name,email\nJane,jane@example.com\n'), mimeType: octet }],
    ]);
    const ids = await files().upsertFiles(
      instanceId,
      [
        ['report', 'report.docx'],
        ['bomb', 'bomb.zip'],
        ['slow', 'phones.txt'],
        ['people', 'people.csv'],
      ].map(([externalId, name], i) => ({
        externalId: externalId!,
        name: name!,
        path: `/${name}`,
        sizeBytes: contents.get(externalId!)!.bytes.length,
        modifiedAt: new Date(Date.UTC(2026, 0, 1 + i)),
        contentVersion: 'v1',
      })),
    );
    const services = { files, evaluator: () => evaluator, dataScan: pool };

    expect(await scanData(runOf(instanceId, providerServing(contents)), services)).toEqual({ status: 'done', items: 4 });

    const stored = new Map((await files().byIds([...ids.values()])).map((f) => [f.externalId, f]));
    expect(stored.get('report')).toMatchObject({
      scanSkippedReason: null,
      scannedVersion: 'v1',
      sensitiveMatches: [
        { type: SensitiveDataType.CREDIT_CARD_NUMBER, count: 1 },
        { type: SensitiveDataType.US_SSN, count: 1 },
      ],
    });
    expect(stored.get('bomb')!.scanSkippedReason).toMatch(/^archive entry "zeros\.bin" expands \d+ times \(more than 100\)$/);
    expect(stored.get('slow')).toMatchObject({ scanSkippedReason: 'extraction took longer than 1 s', sensitiveMatches: [] });
    // The name tells a CSV served as octet-stream.
    expect(stored.get('people')).toMatchObject({
      scanSkippedReason: null,
      sensitiveMatches: [{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }],
    });
    for (const file of stored.values()) expect(file.lastScannedAt).not.toBeNull();

    // Skipped files count as scanned at their version: the next run has nothing to do.
    expect(await scanData(runOf(instanceId, providerServing(contents)), services)).toEqual({ status: 'done', items: 0 });
  });

  it('downloads the next file while one is scanned, one download at a time, and stores each file once', async () => {
    const instanceId = newId();
    const names = Array.from({ length: 12 }, (_, i) => `note-${i}.txt`);
    const contents = new Map(
      names.map((name) => [name, { bytes: Buffer.from(`reach me at ${name}@example.com\n`), mimeType: 'text/plain' }]),
    );
    const ids = await files().upsertFiles(
      instanceId,
      names.map((name, i) => ({
        externalId: name,
        name,
        path: `/${name}`,
        sizeBytes: contents.get(name)!.bytes.length,
        modifiedAt: new Date(Date.UTC(2026, 0, 1 + i)),
        contentVersion: 'v1',
      })),
    );
    const serving = providerServing(contents);
    let started = 0;
    let inFlight = 0;
    let most = 0;
    // Scans waiting for a download to begin: each with the count it waits for.
    const waiting: { count: number; go: () => void }[] = [];
    const connector = {
      downloadFile: async (externalId: string): Promise<FileContent> => {
        started += 1;
        for (const waiter of waiting.filter((w) => started >= w.count)) {
          waiting.splice(waiting.indexOf(waiter), 1);
          waiter.go();
        }
        inFlight += 1;
        most = Math.max(most, inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight -= 1;
        return serving.downloadFile(externalId);
      },
    } as unknown as Connector;
    // The k-th file's scan goes on only once the next file's download has begun: one file at a time never gets there.
    let scans = 0;
    const dataScan = {
      scan: async (...args: Parameters<DataScanPool['scan']>) => {
        const k = ++scans;
        if (k < names.length && started <= k)
          await new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`download ${k + 1} had not begun while file ${k} was scanned`)), 5_000);
            waiting.push({ count: k + 1, go: () => (clearTimeout(timer), resolve()) });
          });
        return pool.scan(...args);
      },
    } as unknown as DataScanPool;
    const services = { files, evaluator: () => evaluator, dataScan };
    expect(await scanData(runOf(instanceId, connector), services)).toEqual({ status: 'done', items: 12 });
    // Downloads one after another: the data scan waits for the rate budget as one request.
    expect(most).toBe(1);
    const stored = await files().byIds([...ids.values()]);
    expect(stored).toHaveLength(12);
    for (const file of stored)
      expect(file).toMatchObject({ scannedVersion: 'v1', sensitiveMatches: [{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }] });
  });

  it('pauses, leaving the file unscanned, when the pool is closed under it (the scheduler stopping)', async () => {
    const instanceId = newId();
    const closing = new DataScanPool({ timeoutMs: 60_000 });
    const slow = { bytes: Buffer.from('+1 415 555 2671\n'.repeat((10 * MIB) / 16)), mimeType: 'text/plain' };
    const ids = await files().upsertFiles(instanceId, [
      {
        externalId: 'slow',
        name: 'phones.txt',
        path: '/phones.txt',
        sizeBytes: slow.bytes.length,
        modifiedAt: new Date(),
        contentVersion: 'v1',
      },
    ]);
    const connector = providerServing(new Map([['slow', slow]]));
    // Closed once the file is in a worker: its download answered and the pool started on it.
    const downloading = connector.downloadFile.bind(connector);
    connector.downloadFile = async (externalId) => {
      const content = await downloading(externalId);
      setImmediate(() => void closing.close());
      return content;
    };
    const outcome = await scanData(runOf(instanceId, connector), { files, evaluator: () => evaluator, dataScan: closing });
    expect(outcome).toEqual({ status: 'paused', items: 0 });
    const [file] = await files().byIds([ids.get('slow')!]);
    expect(file).toMatchObject({ lastScannedAt: null, scanSkippedReason: null });
  });
});
