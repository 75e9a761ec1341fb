import zlib from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { DataScanPool, DataScanPoolClosedError, type DataScanPoolOptions } from './pool.js';
import { docxOf, pdfOfPages, zipOf } from './sample-documents.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

const MIB = 1024 * 1024;
const pools: DataScanPool[] = [];
function poolOf(options: DataScanPoolOptions = {}): DataScanPool {
  const pool = new DataScanPool(options);
  pools.push(pool);
  return pool;
}

afterEach(async () => {
  for (const pool of pools.splice(0)) await pool.close();
});

const text = (content: string): Buffer => Buffer.from(content, 'utf8');
// Ten MiB of phone numbers, each checked against its numbering plan: seconds of work, far past a 0.5 s budget.
const slowToScan = (): Buffer => text('+1 415 555 2671\n'.repeat((10 * MIB) / 16));

/**
 * A PDF of about 1 kB per MiB whose content stream inflates to `mib` MiB of spaces: a zlib header, the same 1 MiB deflate
 * block (flushed, not final) `mib` times, a final empty block. PDF.js keeps a stream's decoded bytes in a
 * typed array, outside the heap that resourceLimits bounds.
 */
function pdfInflatingTo(mib: number): Uint8Array {
  const block = zlib.deflateRawSync(Buffer.alloc(MIB, 0x20), { level: 9, finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const blocks: Buffer[] = Array.from({ length: mib }, () => block);
  const stream = Buffer.concat([Buffer.from([0x78, 0xda]), ...blocks, Buffer.from([0x03, 0x00]), Buffer.alloc(4)]);
  return pdfOfPages([{ stream, filter: 'FlateDecode' }]);
}

describe('DataScanPool', () => {
  it('scans a file in a worker thread and answers counts, never text', async () => {
    const pool = poolOf();
    const result = await pool.scan(docxOf(['Card 4111 1111 1111 1111', 'jane@example.com, joe@example.com']), null);
    expect(result).toEqual({
      status: 'scanned',
      matches: [
        { type: SensitiveDataType.CREDIT_CARD_NUMBER, count: 1 },
        { type: SensitiveDataType.EMAIL_ADDRESS, count: 2 },
      ],
    });
    expect(pool.size).toBe(1);
  });

  it('skips a zip bomb with the reason, quickly', async () => {
    const pool = poolOf();
    await pool.scan(text('warm-up'), 'text/plain');
    const bomb = zipOf({ 'a.zip': zipOf({ 'zeros.bin': new Uint8Array(16 * MIB) }, 9) }, 9);
    const started = performance.now();
    expect(await pool.scan(bomb, 'application/zip')).toEqual({
      status: 'skipped',
      reason: expect.stringMatching(/^archive entry "zeros\.bin" expands \d+ times \(more than 100\)$/),
    });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('skips a file whose scan runs past the time budget, ends its worker, and scans the next file', async () => {
    const pool = poolOf({ timeoutMs: 500 });
    const slow = pool.scan(slowToScan(), 'text/plain');
    const next = pool.scan(text('SSN 123-45-6789'), 'text/plain');
    expect(await slow).toEqual({ status: 'skipped', reason: 'extraction took longer than 0.5 s' });
    expect(await next).toEqual({ status: 'scanned', matches: [{ type: SensitiveDataType.US_SSN, count: 1 }] });
    expect(pool.size).toBe(1);
  });

  it('skips a file that needs more heap than the memory budget, and scans the next file', async () => {
    const pool = poolOf({ memoryMb: 16 });
    // A JSON array of a million small objects: the JSON reader's values outgrow a 16 MiB heap.
    const json = text(`[${'{"k":"v"},'.repeat(1_000_000)}{}]`);
    expect(await pool.scan(json, 'application/json')).toEqual({
      status: 'skipped',
      reason: 'extraction needed more than 16 MiB of memory',
    });
    expect(await pool.scan(text('jane@example.com'), 'text/plain')).toEqual({
      status: 'scanned',
      matches: [{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }],
    });
  });

  it('skips a file whose decoded data outgrows the memory budget outside the heap, and scans the next file', async () => {
    const pool = poolOf({ memoryMb: 64, timeoutMs: 30_000 });
    await pool.scan(text('warm-up'), 'text/plain');
    const bomb = pdfInflatingTo(1_024);
    expect(bomb.length).toBeLessThan(2 * MIB);
    expect(await pool.scan(bomb, 'application/pdf')).toEqual({ status: 'skipped', reason: 'extraction needed more than 64 MiB of memory' });
    expect(await pool.scan(text('123-45-6789'), 'text/plain')).toEqual({
      status: 'scanned',
      matches: [{ type: SensitiveDataType.US_SSN, count: 1 }],
    });
  });

  it('runs as many workers as it is given, side by side', async () => {
    const pool = poolOf({ workers: 2 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => pool.scan(text(`user${i}@example.com`), 'text/plain')));
    expect(results.every((r) => r.status === 'scanned')).toBe(true);
    expect(pool.size).toBe(2);
  });

  it('ends its workers when closed: a scan under way and later ones reject', async () => {
    const pool = poolOf({ timeoutMs: 60_000 });
    await pool.scan(text('warm-up'), 'text/plain');
    const running = pool.scan(slowToScan(), 'text/plain').catch((error: unknown) => error);
    const queued = pool.scan(text('x'), 'text/plain').catch((error: unknown) => error);
    await pool.close();
    expect(await running).toBeInstanceOf(DataScanPoolClosedError);
    expect(await queued).toBeInstanceOf(DataScanPoolClosedError);
    await expect(pool.scan(text('x'), 'text/plain')).rejects.toBeInstanceOf(DataScanPoolClosedError);
    expect(pool.size).toBe(0);
  });

  it('refuses a pool of no workers', () => {
    expect(() => new DataScanPool({ workers: 0 })).toThrow(new RangeError('workers must be a positive integer, got 0'));
  });
});
