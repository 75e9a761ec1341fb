import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORDS } from '../connectors/simulated/catalog.js';
import type { SimFile } from '../connectors/simulated/model.js';
import { startSimulator, type Simulator } from '../connectors/simulated/server.js';
import { startTestStack, waitFor, type TestStack } from './harness.js';
import { allNodes, rescan, scanOf, waitConnected } from './truth.js';

/**
 * FILE policies with custom content rules through the gateway, the scheduler and the simulated
 * provider: a policy with a regular expression and a keyword list raises detections on exactly the
 * files whose text matches, and the counts show on each file; changing the rules applies them at the
 * next data scan; a pattern that could backtrack without bound is refused naming the field.
 */

let t: TestStack;
let simulator: Simulator;
let instanceId: string;
let files: SimFile[];

const TOKEN = 'content-rules-token-1234';

beforeAll(async () => {
  t = await startTestStack({}, { scheduler: true });
  simulator = await startSimulator({
    tenants: [
      {
        id: 'rules',
        token: TOKEN,
        seed: 11,
        users: 8,
        groups: 1,
        files: 40,
        grants: 2,
        backfillDays: 0,
        activityPerMinute: 0,
        auditLagMs: 0,
        rateLimitPerMinute: 6000,
        maxPageSize: 50,
      },
    ],
  });
  const { connectApp } = await t.query<{ connectApp: { id: string } }>(
    'mutation ($config: JSON!) { connectApp(input: { provider: "simulated", name: "rules", config: $config }) { id } }',
    { config: { endpoint: simulator.url, token: TOKEN, rateLimitPerMinute: 6000, maxPageSize: 50 } },
  );
  instanceId = connectApp.id;
  await waitConnected(t, instanceId, 60_000);
  await waitFor('the first data scan', async () => ((await scanOf(t, instanceId, 'DATA')).lastCompletedAt ? true : undefined), 60_000);
  files = simulator
    .tenant('rules')
    .truth()
    .files.filter((f) => !f.deleted);
}, 90_000);

afterAll(async () => {
  await t?.stop();
  await simulator?.stop();
});

interface RuleMatchView {
  policyId: string;
  rule: string;
  kind: string;
  count: number;
}
interface FileView {
  id: string;
  externalId: string;
  contentRuleMatches: RuleMatchView[];
  sensitiveMatches: { type: string; count: number }[];
}

const filesNow = () =>
  allNodes<FileView>(
    t,
    'files',
    `filter: { instanceId: "${instanceId}" }`,
    'id externalId contentRuleMatches { policyId rule kind count } sensitiveMatches { type count }',
  );

const detectionsOf = (policyId: string) =>
  allNodes<{ evidence: { contentRuleMatches?: { rule: string; kind: string; count: number }[] }; file: { externalId: string } }>(
    t,
    'detections',
    `filter: { instanceId: "${instanceId}", policyId: "${policyId}" }`,
    'evidence file { externalId }',
  );

const policyMutation = `
  mutation ($input: PolicyInput!) {
    createPolicy(input: $input) {
      id contentPatterns { name regex caseSensitive minCount } keywordLists { name words caseSensitive wholeWord minCount }
    }
  }`;

/** Whole-word, case-insensitive occurrences of `word` in plain text, as a reader would count them. */
const occurrences = (text: string, word: string) =>
  text.split(/[^\p{L}\p{N}\p{M}_]+/u).filter((w) => w.toLowerCase() === word.toLowerCase()).length;

describe('FILE policies with custom content rules', () => {
  let policyId: string;
  // A filler word of the generator found in some plain-text files, and not in all of them.
  const plain = () => files.filter((f) => f.mimeType === 'text/plain');
  const keyword = () =>
    WORDS.find((w) => plain().some((f) => occurrences(f.content, w) > 0) && plain().some((f) => occurrences(f.content, w) === 0))!;
  const awsKeys = (f: SimFile) => f.planted.filter((p) => p.kind === 'AWS_ACCESS_KEY').length;

  it('count a pattern and a keyword list in every file and raise a detection on the files that match', async () => {
    expect(files.some((f) => awsKeys(f) > 0)).toBe(true);
    expect(keyword()).toBeDefined();
    const { createPolicy } = await t.query<{ createPolicy: { id: string; contentPatterns: unknown[]; keywordLists: unknown[] } }>(
      policyMutation,
      {
        input: {
          name: 'Cloud keys and code words',
          kind: 'FILE',
          severity: 'HIGH',
          condition: {},
          contentPatterns: [{ name: 'AWS key ids', regex: 'AKIA[A-Z2-7]{16}' }],
          keywordLists: [{ name: 'Code words', words: [keyword().toUpperCase()] }],
        },
      },
    );
    policyId = createPolicy.id;
    expect(createPolicy).toMatchObject({
      contentPatterns: [{ name: 'AWS key ids', regex: 'AKIA[A-Z2-7]{16}', caseSensitive: true, minCount: 1 }],
      keywordLists: [{ name: 'Code words', words: [keyword().toUpperCase()], caseSensitive: false, wholeWord: true, minCount: 1 }],
    });

    // The rules changed, so the next data scan reads every file again, though no content changed.
    await rescan(t, instanceId, 'DATA');
    const byId = new Map((await filesNow()).map((f) => [f.externalId, f]));
    const matched = new Set<string>();
    for (const file of files) {
      const view = byId.get(file.id)!;
      const count = (rule: string) => view.contentRuleMatches.find((m) => m.policyId === policyId && m.rule === rule)?.count ?? 0;
      expect(count('AWS key ids'), file.path).toBe(awsKeys(file));
      if (file.mimeType === 'text/plain') expect(count('Code words'), file.path).toBe(occurrences(file.content, keyword()));
      if (count('AWS key ids') + count('Code words') > 0) matched.add(file.id);
      // Only names and counts: never the matched text.
      expect(JSON.stringify(view.contentRuleMatches)).not.toMatch(/AKIA/);
    }
    expect(plain().some((f) => matched.has(f.id) && awsKeys(f) === 0)).toBe(true);

    const detections = await waitFor(
      'the policy detections',
      async () => {
        const found = await detectionsOf(policyId);
        return found.length === matched.size ? found : undefined;
      },
      30_000,
    );
    expect(detections.map((d) => d.file.externalId).sort()).toEqual([...matched].sort());
    for (const d of detections) {
      const view = byId.get(d.file.externalId)!;
      expect(d.evidence.contentRuleMatches).toEqual(
        view.contentRuleMatches
          .filter((m) => m.policyId === policyId)
          .map(({ rule, kind, count }) => ({ rule, kind, count }))
          .sort((a, b) => a.rule.localeCompare(b.rule)),
      );
    }
  });

  it('apply changed rules at once: the schedulers data-scan the files read under the old ones, with no scan requested', async () => {
    const update = 'mutation ($id: ID!, $input: PolicyInput!) { updatePolicy(id: $id, input: $input) { id } }';
    await t.query(update, {
      id: policyId,
      input: {
        name: 'Cloud keys and code words',
        kind: 'FILE',
        severity: 'HIGH',
        condition: {},
        keywordLists: [{ name: 'Code words', words: [keyword()], caseSensitive: true, wholeWord: false, minCount: 2 }],
      },
    });
    // What each file must show under the new rules: no AWS rule, and the code words counted in text files.
    const expected = (file: (typeof files)[number], matches: FileView['contentRuleMatches']) => {
      const mine = matches.filter((m) => m.policyId === policyId);
      if (mine.some((m) => m.rule === 'AWS key ids')) return false;
      if (file.mimeType !== 'text/plain') return true;
      return (mine.find((m) => m.rule === 'Code words')?.count ?? 0) === file.content.split(keyword()).length - 1;
    };
    const byId = await waitFor('every file read under the new rules', async () => {
      const now = new Map((await filesNow()).map((f) => [f.externalId, f]));
      return files.every((file) => expected(file, now.get(file.id)!.contentRuleMatches)) ? now : undefined;
    });
    for (const file of files) {
      const mine = byId.get(file.id)!.contentRuleMatches.filter((m) => m.policyId === policyId);
      expect(
        mine.some((m) => m.rule === 'AWS key ids'),
        file.path,
      ).toBe(false);
      if (file.mimeType === 'text/plain') {
        const expected = file.content.split(keyword()).length - 1;
        expect(mine.find((m) => m.rule === 'Code words')?.count ?? 0, file.path).toBe(expected);
      }
    }
  });

  it('refuse a pattern that could backtrack without bound, naming the field and why', async () => {
    for (const [regex, why] of [
      ['(a+)+$', 'nested quantifiers'],
      ['(a|aa)*b', 'can start with the same character'],
      ['(.*a){20}', 'nested quantifiers'],
      ['(x)\\1', 'back-references'],
    ]) {
      const answer = await t.request(policyMutation, {
        input: {
          name: 'Hostile',
          kind: 'FILE',
          severity: 'LOW',
          condition: {},
          contentPatterns: [
            { name: 'fine', regex: 'EMP-\\d{6}' },
            { name: 'hostile', regex },
          ],
        },
      });
      expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
      expect(answer.errors?.[0]?.message).toContain('"input.contentPatterns.1.regex"');
      expect(answer.errors?.[0]?.message).toContain(why);
    }
    const { policies } = await t.query<{ policies: { name: string }[] }>('{ policies { name } }');
    expect(policies.some((p) => p.name === 'Hostile')).toBe(false);
  });

  it('refuse content rules on other kinds of policy, and a FILE policy with neither condition nor rules', async () => {
    const onActivity = await t.request(policyMutation, {
      input: { name: 'x', kind: 'ACTIVITY', severity: 'LOW', condition: { action: 'file.*' }, keywordLists: [{ name: 'k', words: ['x'] }] },
    });
    expect(onActivity.errors?.[0]?.message).toContain('"input.keywordLists"');
    const empty = await t.request(policyMutation, { input: { name: 'x', kind: 'FILE', severity: 'LOW', condition: {} } });
    expect(empty.errors?.[0]?.message).toContain('"input.condition"');
  });
});
