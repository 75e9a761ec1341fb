import { describe, expect, it } from 'vitest';
import { DETECTORS } from './detectors.js';
import { scanContent, scanText } from './scan.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
const jwt = [{ alg: 'HS256', typ: 'JWT' }, { sub: 'user-1' }]
  .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
  .concat('c2lnbmF0dXJlLWJ5dGVz')
  .join('.');

describe('scanContent', () => {
  it('counts each type found, sorted by type, and nothing else', () => {
    const text = [
      'Customer: jane@example.com, backup jane.doe@example.org',
      'Card 4111 1111 1111 1111 and 5555555555554444; bad 4111111111111112',
      'SSN 123-45-6789, invalid 000-12-3456',
      'IBAN DE89 3704 0044 0532 0130 00',
      `key AKIA${'IOSFODNN7EXAMPLE'} session ${jwt}`,
    ].join('\n');
    expect(scanContent(utf8(text), 'text/plain')).toEqual([
      { type: SensitiveDataType.AWS_ACCESS_KEY, count: 1 },
      { type: SensitiveDataType.CREDIT_CARD_NUMBER, count: 2 },
      { type: SensitiveDataType.EMAIL_ADDRESS, count: 2 },
      { type: SensitiveDataType.IBAN, count: 1 },
      { type: SensitiveDataType.JWT, count: 1 },
      { type: SensitiveDataType.US_SSN, count: 1 },
    ]);
  });

  it('gives an empty list for clean, empty and binary content', () => {
    expect(scanContent(utf8('Quarterly plan: ship v2 by 2025-03-31, budget 120000.'), 'text/plain')).toEqual([]);
    expect(scanContent(Buffer.alloc(0), null)).toEqual([]);
    expect(scanContent(Buffer.concat([Buffer.from([0, 1, 2, 0]), utf8('4111111111111111')]), null)).toEqual([]);
  });

  it('scans what each format holds as text', () => {
    const json = String.raw`{"cards": [4111111111111111, "5555-5555-5555-4444"], "contact": "jane\u0040example.com"}`;
    expect(scanContent(utf8(json), 'application/json')).toEqual([
      { type: SensitiveDataType.CREDIT_CARD_NUMBER, count: 2 },
      { type: SensitiveDataType.EMAIL_ADDRESS, count: 1 },
    ]);
    const html = '<script>var ssn = "123-45-6789";</script><p>Write to jane&#64;example.com</p>';
    expect(scanContent(utf8(html), 'text/html')).toEqual([{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }]);
    const csv = 'name,ssn\n"Doe, Jane","123-45-6789"\n';
    expect(scanContent(utf8(csv), 'application/octet-stream', 'people.csv')).toEqual([{ type: SensitiveDataType.US_SSN, count: 1 }]);
  });

  it('scans only the first maxBytes bytes', () => {
    const content = utf8('jane@example.com 123-45-6789');
    expect(scanContent(content, 'text/plain', undefined, { maxBytes: 16 })).toEqual([{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }]);
  });

  it('runs only the detectors it is given', () => {
    const ssnOnly = DETECTORS.filter((d) => d.type === SensitiveDataType.US_SSN);
    expect(scanText('jane@example.com 123-45-6789', ssnOnly)).toEqual([{ type: SensitiveDataType.US_SSN, count: 1 }]);
  });
});

describe('scanning large and hostile input', () => {
  it('scans 5 MB of text with secrets planted at known places', () => {
    const filler =
      'Meeting notes 2024-05-17: revenue up 12.5% (1,234,567 units); call +1 415 555 0134; ' +
      'ticket INV-2024-000123; order 998877665544; see https://intranet.example/wiki/page-42.\n';
    const planted = [
      'jane.doe@example.com',
      '4111 1111 1111 1111',
      '123-45-6789',
      'GB82 WEST 1234 5698 7654 32',
      `AKIA${'IOSFODNN7EXAMPLE'}`,
      jwt,
    ].join(' | ');
    const target = 5 * 1024 * 1024;
    const chunks: string[] = [];
    let size = 0;
    let plantedCount = 0;
    let fillerCount = 0; // each filler line holds a phone number
    for (let line = 0; size < target; line++) {
      const chunk = line % 500 === 0 ? `${planted}\n` : filler;
      if (line % 500 === 0) plantedCount++;
      else fillerCount++;
      chunks.push(chunk);
      size += chunk.length;
    }
    const content = utf8(chunks.join(''));
    expect(content.length).toBeGreaterThanOrEqual(target);

    expect(scanContent(content, 'text/plain')).toEqual(
      [
        SensitiveDataType.AWS_ACCESS_KEY,
        SensitiveDataType.CREDIT_CARD_NUMBER,
        SensitiveDataType.EMAIL_ADDRESS,
        SensitiveDataType.IBAN,
        SensitiveDataType.JWT,
        SensitiveDataType.PHONE_NUMBER,
        SensitiveDataType.US_SSN,
      ].map((type) => ({ type, count: type === SensitiveDataType.PHONE_NUMBER ? fillerCount : plantedCount })),
    );
  });

  // A regex that backtracks over a run once per starting position takes quadratic time: on a million
  // characters that is hours, far past the test timeout. Every pattern is written to be linear; these inputs
  // are the runs each one consumes, so a pattern that is not would hang here.
  const MILLION = 1_000_000;
  it.each([
    ['digits', '4'.repeat(MILLION)],
    ['digit and space', '4 '.repeat(MILLION / 2)],
    ['digit and dash', '4-'.repeat(MILLION / 2)],
    ['card-like groups', '4111 '.repeat(MILLION / 5)],
    ['SSN-like groups', '123-45-'.repeat(MILLION / 7)],
    ['dashes', '-'.repeat(MILLION)],
    ['PEM-like headers', '-----BEGIN '.repeat(MILLION / 11)],
    ['letters', 'a'.repeat(MILLION)],
    ['a@', 'a@'.repeat(MILLION / 2)],
    ['a.', 'a.'.repeat(MILLION / 2)],
    ['@', '@'.repeat(MILLION)],
    ['a long local part', `${'a.'.repeat(MILLION / 2)}@example.com`],
    ['a long domain', `x@${'a.'.repeat(MILLION / 2)}1`],
    ['a long hyphenated label', `x@${'a-'.repeat(MILLION / 2)}`],
    ['uppercase and digits', 'DE89'.repeat(MILLION / 4)],
    ['IBAN-like groups', 'DE89 '.repeat(MILLION / 5)],
    ['AKIA', 'AKIA'.repeat(MILLION / 4)],
    ['base64url', `e${'A'.repeat(MILLION)}`],
    ['dotted base64url', 'eAAAAAAAAAA.'.repeat(MILLION / 12)],
    ['token prefixes', 'xoxb-ghp_'.repeat(MILLION / 9)],
    ['punctuation soup', 'a1-@. _'.repeat(MILLION / 7)],
    ['international phone prefixes', '+1 '.repeat(MILLION / 3)],
    ['dotted digit groups', '415.555.'.repeat(MILLION / 8)],
    ['password keys', 'Password=x;'.repeat(MILLION / 11)],
    ['database URL prefixes', 'postgres://a:'.repeat(MILLION / 13)],
    ['MRZ fillers', '<'.repeat(MILLION)],
    ['MRZ-like runs', 'L898902C36UTO'.repeat(MILLION / 13)],
    ['passport labels', 'passport '.repeat(MILLION / 9)],
    ['licence-like letters', 'MORGA7'.repeat(MILLION / 6)],
    ['Slack-like ids', 'xoxb-1-'.repeat(MILLION / 7)],
    ['Azure key labels', 'AccountKey='.repeat(MILLION / 11)],
  ])('finds nothing in a million characters of %s', (_name, text) => {
    expect(scanText(text)).toEqual([]);
  });

  it.each([
    ['<', '<'.repeat(MILLION)],
    ['unclosed scripts', '<script>'.repeat(MILLION / 8)],
    ['unclosed comments', '<!--'.repeat(MILLION / 4)],
    ['unclosed attribute quotes', '<a b="'.repeat(MILLION / 6)],
    ['ampersands', '&#'.repeat(MILLION / 2)],
  ])('reads a million characters of %s as HTML', (_name, html) => {
    expect(scanContent(utf8(html), 'text/html')).toEqual([]);
  });

  it.each([
    ['quotes', '"'.repeat(MILLION)],
    ['backslashes', '\\'.repeat(MILLION)],
    ['escaped quotes', '"\\'.repeat(MILLION / 2)],
    ['empty fields', ',"'.repeat(MILLION / 2)],
  ])('reads a million characters of %s as JSON and CSV', (_name, text) => {
    expect(scanContent(utf8(text), 'application/json')).toEqual([]);
    expect(scanContent(utf8(text), 'text/csv')).toEqual([]);
  });
});
