import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { extractFile, type Extraction } from './extract-file.js';
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits } from './limits.js';
import { docxOf, odpOf, odsOf, odtOf, pdfOf, pptxOf, xlsxOf, zipOf } from './sample-documents.js';
import { scanText } from './scan.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

const MIB = 1024 * 1024;

/** A classic GitHub token whose CRC32 checksum holds, built here so that no secret is written in this file. */
function githubToken(): string {
  const random = 'Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0';
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let checksum = '';
  for (let v = zlib.crc32(random); v > 0; v = Math.floor(v / 62)) checksum = digits[v % 62] + checksum;
  return `ghp_${random}${checksum.padStart(6, '0')}`;
}

// One secret of several kinds, each on its own line or cell.
const PLANTED = ['Card 4111 1111 1111 1111', 'SSN 123-45-6789', 'Mail jane.doe@example.com', `Token ${githubToken()}`];
const PLANTED_TYPES = [
  SensitiveDataType.API_TOKEN,
  SensitiveDataType.CREDIT_CARD_NUMBER,
  SensitiveDataType.EMAIL_ADDRESS,
  SensitiveDataType.GITHUB_TOKEN,
  SensitiveDataType.US_SSN,
];

function textOf(extraction: Extraction): string {
  if (extraction.status !== 'text') throw new Error(`skipped: ${extraction.reason}`);
  return extraction.text;
}

const typesIn = (text: string) => scanText(text).map((m) => m.type);
/** Each planted line as a row of two cells, its label and its value. */
const PLANTED_ROWS = PLANTED.map((line) => [line.slice(0, line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)]);

describe('extractFile: planted secrets in every format', () => {
  it.each([
    ['text', () => Buffer.from(PLANTED.join('\n')), 'text/plain'],
    ['PDF', () => pdfOf(PLANTED), 'application/pdf'],
    ['PDF without compression', () => pdfOf(PLANTED, { compress: false }), null],
    ['DOCX', () => docxOf(PLANTED), 'application/vnd.openxmlformats-officedocument.wordprocessingml.document'],
    ['XLSX', () => xlsxOf(PLANTED_ROWS), 'application/octet-stream'],
    ['PPTX', () => pptxOf([PLANTED.slice(0, 2), PLANTED.slice(2)]), null],
    ['ODT', () => odtOf(PLANTED), 'application/vnd.oasis.opendocument.text'],
    ['ODS', () => odsOf(PLANTED_ROWS), null],
    ['ODP', () => odpOf([PLANTED.slice(0, 2), PLANTED.slice(2)]), 'application/vnd.oasis.opendocument.presentation'],
    ['ZIP', () => zipOf({ 'notes/secrets.txt': PLANTED.join('\n'), 'logo.png': new Uint8Array(64) }), 'application/zip'],
    ['ZIP of a DOCX in a ZIP', () => zipOf({ 'inner.zip': zipOf({ 'report.docx': docxOf(PLANTED) }) }), null],
  ])('finds them in %s', async (_format, build, mimeType) => {
    expect(typesIn(textOf(await extractFile(build(), mimeType)))).toEqual(PLANTED_TYPES);
  });
});

describe('extractFile: office documents', () => {
  it('joins the runs of a Word paragraph and breaks lines between paragraphs', async () => {
    const text = textOf(await extractFile(docxOf([['4111 1111 ', '1111', ' 1111'], 'next &lt;para>']), null));
    expect(text.split('\n')).toEqual(['4111 1111 1111 1111', 'next &lt;para>', '']);
  });

  it('reads a worksheet as rows of cells, shared strings in place, numbers apart', async () => {
    const text = textOf(
      await extractFile(
        xlsxOf([
          ['name', 'card'],
          ['Jane', 4111],
          [1111, 'x'],
        ]),
        null,
      ),
    );
    expect(text.split('\n').slice(0, 3)).toEqual(['name\tcard\t', 'Jane\t4111\t', '1111\tx\t']);
  });

  it('reads a file embedded in an office document', async () => {
    const docx = zipOf({
      '[Content_Types].xml': '<Types/>',
      'word/document.xml': '<w:document><w:body><w:p><w:r><w:t>see table</w:t></w:r></w:p></w:body></w:document>',
      'word/embeddings/Microsoft_Excel_Worksheet.xlsx': xlsxOf([['123-45-6789']]),
    });
    expect(typesIn(textOf(await extractFile(docx, null)))).toEqual([SensitiveDataType.US_SSN]);
  });

  it('skips a DOCTYPE without expanding its entities', async () => {
    const laughs = `<!DOCTYPE d [<!ENTITY a "123-45-6789"><!ENTITY b "&a;&a;&a;&a;">]>`;
    const docx = zipOf({
      '[Content_Types].xml': '<Types/>',
      'word/document.xml': `${laughs}<w:document><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p></w:body></w:document>`,
    });
    expect(textOf(await extractFile(docx, null))).toBe('&b;\n');
  });
});

describe('extractFile: limits', () => {
  const limits = (overrides: Partial<ExtractionLimits>): ExtractionLimits => ({ ...DEFAULT_EXTRACTION_LIMITS, ...overrides });

  it('refuses a highly compressible entry by its declared ratio before inflating it', async () => {
    const bomb = zipOf({ 'zeros.txt': new Uint8Array(20 * MIB) }, 9);
    expect(bomb.length).toBeLessThan(64 * 1024);
    const started = performance.now();
    expect(await extractFile(bomb, 'application/zip')).toEqual({
      status: 'skipped',
      reason: expect.stringMatching(/^archive entry "zeros\.txt" expands \d+ times \(more than 100\)$/),
    });
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('reads a repetitive document whose part compresses more than 100 times, being under 4 MiB', async () => {
    const paragraphs = Array.from({ length: 10_000 }, () => 'The same status line, every row of the report.');
    paragraphs.push('SSN 123-45-6789');
    expect(typesIn(textOf(await extractFile(docxOf(paragraphs), null)))).toEqual([SensitiveDataType.US_SSN]);
  });

  it('reads every page of a PDF', async () => {
    const lines = Array.from({ length: 120 }, (_, i) => `line ${i}`);
    lines.push('jane@example.com');
    expect(typesIn(textOf(await extractFile(pdfOf(lines, { linesPerPage: 50 }), null)))).toEqual([SensitiveDataType.EMAIL_ADDRESS]);
  });

  it('refuses an archive whose entries would expand past the budget', async () => {
    const archive = zipOf(Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`part-${i}.txt`, 'jane@example.com '.repeat(5_000)])));
    expect(await extractFile(archive, null, 'x.zip', limits({ maxExpandedBytes: 256 * 1024 }))).toEqual({
      status: 'skipped',
      reason: 'archive expands beyond 256 KiB',
    });
  });

  it('refuses nested archives that together expand past 100 MiB, each level small', async () => {
    const leaf = zipOf(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}.bin`, new Uint8Array(64 * 1024)])), 9);
    const middle = zipOf(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}.zip`, leaf])), 9);
    const top = zipOf(Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}.zip`, middle])), 9);
    expect(top.length).toBeLessThan(MIB);
    expect(await extractFile(top, 'application/zip')).toEqual({ status: 'skipped', reason: 'archive expands beyond 100 MiB' });
  });

  it('refuses archives nested deeper than the limit', async () => {
    let archive = zipOf({ 'deep.txt': '123-45-6789' });
    for (let depth = 2; depth <= 3; depth++) archive = zipOf({ [`level-${depth}.zip`]: archive });
    expect(typesIn(textOf(await extractFile(archive, null)))).toEqual([SensitiveDataType.US_SSN]);
    expect(await extractFile(zipOf({ 'level-4.zip': archive }), null)).toEqual({
      status: 'skipped',
      reason: 'archive nests deeper than 3 levels',
    });
  });

  it('refuses an archive with too many entries', async () => {
    const archive = zipOf(Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`${i}.txt`, 'x'])));
    expect(await extractFile(archive, null, undefined, limits({ maxEntries: 20 }))).toEqual({
      status: 'skipped',
      reason: 'archive holds more than 20 entries',
    });
  });

  it('refuses archives and PDFs larger than maxInputBytes', async () => {
    const small = limits({ maxInputBytes: 100 });
    expect(await extractFile(docxOf(['x']), null, undefined, small)).toEqual({
      status: 'skipped',
      reason: 'archive is larger than 100 bytes',
    });
    expect(await extractFile(pdfOf(['x']), null, undefined, small)).toEqual({ status: 'skipped', reason: 'PDF is larger than 100 bytes' });
  });

  it('reads at most maxTextChars characters', async () => {
    const text = textOf(await extractFile(docxOf(['a'.repeat(100), 'b'.repeat(100)]), null, undefined, limits({ maxTextChars: 150 })));
    expect(text).toHaveLength(150);
  });
});

describe('extractFile: damaged files', () => {
  it('skips a damaged archive with the reason', async () => {
    const damaged = zipOf({ 'a.txt': 'x'.repeat(1000) }).slice(0, 60);
    expect(await extractFile(damaged, null)).toEqual({ status: 'skipped', reason: expect.stringMatching(/^not a readable ZIP archive/) });
  });

  it('skips a damaged PDF with the reason', async () => {
    expect(await extractFile(Buffer.from('%PDF-1.7\nnot really a pdf'), 'application/pdf')).toEqual({
      status: 'skipped',
      reason: expect.stringMatching(/^not a readable PDF/),
    });
  });

  it('reads random bytes as nothing', async () => {
    const random = Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 251));
    expect(await extractFile(random, null)).toEqual({ status: 'text', text: '' });
  });
});
