import { afterEach, describe, expect, it } from 'vitest';
import { countRule, countRules, keywordSpec, patternSpec, rulesHash } from './content-match.js';
import { DataScanPool } from './pool.js';
import { docxOf } from './sample-documents.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

const list = (words: string[], options: { caseSensitive?: boolean; wholeWord?: boolean } = {}) =>
  keywordSpec('p1', { name: 'words', words, caseSensitive: options.caseSensitive ?? false, wholeWord: options.wholeWord ?? true });

describe('keyword lists', () => {
  const text = 'Project FALCON: falcon team, Falconry club, peregrine-falcon, falcon_x, Falcon2 and the falcon.';

  it('count whole words, ignoring case, by default', () => {
    // FALCON, falcon (team), peregrine-falcon ("-" is no word character), falcon (the end); not Falconry, falcon_x, Falcon2.
    expect(countRule(list(['falcon']), text)).toBe(4);
  });

  it('match case when asked', () => {
    expect(countRule(list(['falcon'], { caseSensitive: true }), text)).toBe(3);
    expect(countRule(list(['FALCON'], { caseSensitive: true }), text)).toBe(1);
  });

  it('count inside longer words when wholeWord is false', () => {
    expect(countRule(list(['falcon'], { wholeWord: false }), text)).toBe(7);
  });

  it('treat words literally, phrases across any whitespace, other scripts as words', () => {
    expect(countRule(list(['a.b', '(c)']), 'a.b axb (c) c')).toBe(2);
    expect(countRule(list(['Top Secret']), 'top  secret\nTOP\nSECRET topsecret')).toBe(2);
    expect(countRule(list(['straße']), 'Straße straßenbahn')).toBe(1);
    expect(countRule(list(['機密']), '機密 文書')).toBe(1);
    expect(countRule(list(['a-b', 'x/y']), 'a-b x/y')).toBe(2);
  });

  it('count each occurrence of any word of the list once, the longest phrase first', () => {
    expect(countRule(list(['project', 'project falcon']), 'Project Falcon and project eagle')).toBe(2);
  });
});

describe('patterns', () => {
  it('count non-overlapping matches, honouring case', () => {
    const spec = patternSpec('p1', { name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: true });
    expect(countRule(spec, 'EMP-123456 emp-654321 EMP-000001')).toBe(2);
    expect(countRule(patternSpec('p1', { name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: false }), 'EMP-123456 emp-654321')).toBe(2);
  });

  it('report only the rules that matched, with their policy and kind', () => {
    const specs = [patternSpec('p1', { name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: true }), list(['nothing here'])];
    expect(countRules(specs, 'EMP-123456')).toEqual([{ policyId: 'p1', rule: 'ids', kind: 'PATTERN', count: 1 }]);
  });
});

describe('rulesHash', () => {
  it('is null without rules, independent of order, and changes with any rule', () => {
    const a = patternSpec('p1', { name: 'a', regex: 'x', caseSensitive: true });
    const b = list(['y']);
    expect(rulesHash([])).toBeNull();
    expect(rulesHash([a, b])).toBe(rulesHash([b, a]));
    expect(rulesHash([a, b])).not.toBe(rulesHash([a, list(['z'])]));
    expect(rulesHash([a])).not.toBe(rulesHash([patternSpec('p1', { name: 'a', regex: 'x', caseSensitive: false })]));
  });
});

describe('content rules in the data scan pool', () => {
  const pools: DataScanPool[] = [];
  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close();
  });

  it('are counted in the extracted text of a document, beside the detectors', async () => {
    const pool = new DataScanPool();
    pools.push(pool);
    const specs = [patternSpec('p1', { name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: true }), list(['falcon'])];
    const result = await pool.scan(docxOf(['Project Falcon staff: EMP-123456, EMP-654321', 'jane@example.com']), null, 'staff.docx', specs);
    expect(result).toEqual({
      status: 'scanned',
      matches: [{ type: SensitiveDataType.EMAIL_ADDRESS, count: 1 }],
      ruleMatches: [
        { policyId: 'p1', rule: 'ids', kind: 'PATTERN', count: 2 },
        { policyId: 'p1', rule: 'words', kind: 'KEYWORDS', count: 1 },
      ],
    });
  });

  it('skip the file, and keep the scheduler going, when a pattern runs past the time budget', async () => {
    const pool = new DataScanPool({ timeoutMs: 500 });
    pools.push(pool);
    // A pattern the safety check refuses, as if stored before it: exponential on this text.
    const hostile = { policyId: 'p1', rule: 'bad', kind: 'PATTERN' as const, source: '(a+)+$', flags: '' as const };
    const result = await pool.scan(Buffer.from(`${'a'.repeat(40)}!`), 'text/plain', 'a.txt', [hostile]);
    expect(result).toEqual({ status: 'skipped', reason: 'extraction took longer than 0.5 s' });
    // The pool replaced the ended worker.
    expect(
      await pool.scan(Buffer.from('EMP-123456'), 'text/plain', 'b.txt', [
        patternSpec('p1', { name: 'ids', regex: 'EMP-\\d{6}', caseSensitive: true }),
      ]),
    ).toMatchObject({
      status: 'scanned',
      ruleMatches: [{ rule: 'ids', count: 1 }],
    });
  });
});
