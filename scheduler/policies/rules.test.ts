import { describe, expect, it } from 'vitest';
import {
  type ActivityCondition,
  type AppPermissionCondition,
  type FileCondition,
  parsePolicyCondition,
  PolicyKind,
} from '../../subgraphs/activities/public.js';
import { ActivityRule, splitByGap, thresholdRuns, type ActivityContext, type ActivityFacts } from './activity-rules.js';
import { appObservation, AppPermissionRule, fileObservation, FileRule, type FileFacts, type GrantFacts } from './asset-rules.js';
import { CidrSet, globMatch } from './match.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

/** The pure half of policy evaluation: matching one item, and counting thresholds over many. */

function condition<K extends PolicyKind>(kind: K, value: unknown) {
  const parsed = parsePolicyCondition(kind, value);
  if (!parsed.ok) throw new Error(`${parsed.field}: ${parsed.message}`);
  return parsed.value.condition;
}
const activityRule = (value: unknown) => new ActivityRule(condition(PolicyKind.ACTIVITY, value) as ActivityCondition);

const T0 = Date.parse('2026-11-01T12:00:00Z');
const MINUTE = 60_000;
let seq = 0;
function activity(over: Partial<ActivityFacts> = {}, minutes = 0): ActivityFacts {
  seq += 1;
  return {
    id: `a${String(seq).padStart(4, '0')}`,
    category: ActivityCategory.USER,
    action: 'file.download',
    actorId: 'ann',
    occurredAt: new Date(T0 + minutes * MINUTE),
    ipAddress: '10.1.2.3',
    country: 'US',
    succeeded: true,
    ...over,
  };
}
const ctx = (over: Partial<ActivityContext> = {}): ActivityContext => ({ admins: new Set(), newCountry: new Set(), ...over });

describe('globMatch', () => {
  it.each([
    ['*.csv', 'Payroll.CSV', true],
    ['*.csv', 'payroll.csv.txt', false],
    ['file.*', 'file.download', true],
    ['file.*', 'user.login', false],
    ['re?ort-*', 'report-2026.txt', true],
    ['*', '', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
  ])('%s ~ %s → %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('stays fast on patterns that make backtracking regular expressions explode', () => {
    const started = performance.now();
    expect(globMatch('*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
    expect(performance.now() - started).toBeLessThan(500);
  });
});

describe('CidrSet', () => {
  const set = new CidrSet(['10.0.0.0/8', '192.0.2.7', '2001:db8::/32']);
  it.each([
    ['10.200.1.1', true],
    ['11.0.0.1', false],
    ['192.0.2.7', true],
    ['192.0.2.8', false],
    ['2001:db8:1::5', true],
    ['2001:db9::1', false],
    ['::ffff:10.1.1.1', true],
    ['not-an-ip', false],
    [null, false],
  ])('%s → %s', (ip, expected) => {
    expect(set.has(ip)).toBe(expected);
  });
});

describe('ActivityRule', () => {
  it('ANDs the fields and ORs the values of a list', () => {
    const rule = activityRule({
      action: ['file.download', 'file.share'],
      category: 'USER',
      succeeded: true,
      ipInCidr: '10.0.0.0/8',
      country: { in: ['US', 'CA'] },
    });
    expect(rule.matches(activity(), ctx())).toBe(true);
    expect(rule.matches(activity({ action: 'file.share', country: 'CA' }), ctx())).toBe(true);
    expect(rule.matches(activity({ action: 'file.view' }), ctx())).toBe(false);
    expect(rule.matches(activity({ category: ActivityCategory.ADMIN }), ctx())).toBe(false);
    expect(rule.matches(activity({ succeeded: false }), ctx())).toBe(false);
    expect(rule.matches(activity({ ipAddress: '172.16.0.1' }), ctx())).toBe(false);
    expect(rule.matches(activity({ ipAddress: null }), ctx())).toBe(false);
    expect(rule.matches(activity({ country: 'RU' }), ctx())).toBe(false);
    expect(rule.matches(activity({ country: null }), ctx())).toBe(false);
  });

  it('reads admins, countries not in a list, and new countries from the context', () => {
    expect(activityRule({ actorIsAdmin: true }).matches(activity(), ctx({ admins: new Set(['ann']) }))).toBe(true);
    expect(activityRule({ actorIsAdmin: true }).matches(activity(), ctx())).toBe(false);
    expect(activityRule({ actorIsAdmin: false }).matches(activity({ actorId: null }), ctx())).toBe(true);
    expect(activityRule({ country: { notIn: 'US' } }).matches(activity({ country: 'BR' }), ctx())).toBe(true);
    expect(activityRule({ country: { notIn: 'US' } }).matches(activity({ country: null }), ctx())).toBe(false);
    const a = activity({ country: 'RU' });
    const rule = activityRule({ country: { newForActor: true } });
    expect(rule.needsHistory).toBe(true);
    expect(rule.matches(a, ctx({ newCountry: new Set([a.id]) }))).toBe(true);
    expect(rule.matches(a, ctx())).toBe(false);
  });

  it('pushes only literal actions, categories and succeeded down to the database', () => {
    expect(activityRule({ action: ['file.download'], category: 'USER', succeeded: false, country: { in: 'US' } }).narrowing).toEqual({
      actions: ['file.download'],
      categories: ['USER'],
      succeeded: false,
    });
    expect(activityRule({ action: ['file.*'] }).narrowing).toEqual({ actions: undefined, categories: undefined, succeeded: undefined });
  });
});

describe('thresholdRuns and splitByGap', () => {
  it('keeps the events that lie in a window holding at least the count, in runs', () => {
    const burst = Array.from({ length: 5 }, (_, i) => activity({}, i * 2)); // 0..8 minutes
    const stray = activity({}, 30);
    const second = Array.from({ length: 3 }, (_, i) => activity({}, 100 + i)); // too few
    const runs = thresholdRuns([stray, ...second, ...burst].reverse(), 4, 10 * MINUTE);
    expect(runs.map((r) => r.map((a) => a.id))).toEqual([burst.map((a) => a.id)]);
  });

  it('joins overlapping windows into one run and splits where the gap exceeds the window', () => {
    const first = Array.from({ length: 6 }, (_, i) => activity({}, i * 2)); // every 2 minutes for 10 minutes
    const later = Array.from({ length: 3 }, (_, i) => activity({}, 60 + i));
    const runs = thresholdRuns([...first, ...later], 3, 5 * MINUTE);
    expect(runs.map((r) => r.length)).toEqual([6, 3]);
  });

  it('counts exactly the count within exactly the window', () => {
    expect(thresholdRuns([activity({}, 0), activity({}, 10)], 2, 10 * MINUTE)).toHaveLength(1);
    expect(thresholdRuns([activity({}, 0), activity({}, 10.5)], 2, 10 * MINUTE)).toHaveLength(0);
  });

  it('splits matches without a threshold by the grouping window', () => {
    const runs = splitByGap([activity({}, 200), activity({}, 0), activity({}, 30), activity({}, 85)], 60 * MINUTE);
    expect(runs.map((r) => r.map((a) => a.occurredAt.getTime() - T0))).toEqual([[0, 30 * MINUTE, 85 * MINUTE], [200 * MINUTE]]);
  });
});

const file = (over: Partial<FileFacts> = {}): FileFacts => ({
  id: 'f1',
  name: 'payroll.csv',
  path: '/Shared/HR/payroll.csv',
  ownerId: 'ann',
  sharing: SharingLevel.PUBLIC,
  collaborators: [],
  trashed: false,
  sensitiveMatches: [{ type: 'CREDIT_CARD_NUMBER', count: 3 }],
  ...over,
});

describe('FileRule', () => {
  const rule = (value: unknown) => new FileRule(condition(PolicyKind.FILE, value) as FileCondition);
  it('matches sharing, sensitive types with a minimum count, trash, owner and name', () => {
    const exposed = rule({ sharing: ['EXTERNAL', 'PUBLIC'], sensitiveType: ['CREDIT_CARD_NUMBER', 'IBAN'], minCount: 2, trashed: false });
    expect(exposed.matches(file(), new Set())).toBe(true);
    expect(exposed.matches(file({ sharing: SharingLevel.INTERNAL }), new Set())).toBe(false);
    expect(exposed.matches(file({ sensitiveMatches: [{ type: 'CREDIT_CARD_NUMBER', count: 1 }] }), new Set())).toBe(false);
    expect(exposed.matches(file({ sensitiveMatches: [{ type: 'EMAIL_ADDRESS', count: 9 }] }), new Set())).toBe(false);
    expect(exposed.matches(file({ trashed: true }), new Set())).toBe(false);
    expect(rule({ minCount: 5 }).matches(file({ sensitiveMatches: [{ type: 'EMAIL_ADDRESS', count: 5 }] }), new Set())).toBe(true);
    expect(rule({ ownerIsAdmin: true }).matches(file(), new Set(['ann']))).toBe(true);
    expect(rule({ ownerIsAdmin: true }).matches(file(), new Set())).toBe(false);
    expect(rule({ namePattern: ['*.CSV', 'export-*'] }).matches(file(), new Set())).toBe(true);
    expect(rule({ namePattern: '*.xlsx' }).matches(file(), new Set())).toBe(false);
  });

  it('keys an observation on the state that matched, not on the order of its matches', () => {
    const a = fileObservation(
      file({
        sensitiveMatches: [
          { type: 'IBAN', count: 1 },
          { type: 'US_SSN', count: 2 },
        ],
      }),
    );
    const b = fileObservation(
      file({
        sensitiveMatches: [
          { type: 'US_SSN', count: 2 },
          { type: 'IBAN', count: 1 },
          { type: 'JWT', count: 0 },
        ],
      }),
    );
    expect(a.key).toBe(b.key);
    expect(fileObservation(file({ sharing: SharingLevel.EXTERNAL })).key).not.toBe(fileObservation(file()).key);
    expect(a.evidence).toMatchObject({
      sharing: 'PUBLIC',
      sensitiveMatches: [
        { type: 'IBAN', count: 1 },
        { type: 'US_SSN', count: 2 },
      ],
    });
  });
});

describe('AppPermissionRule', () => {
  const grant = (over: Partial<GrantFacts> = {}): GrantFacts => ({
    id: 'g1',
    appName: 'Backup Buddy',
    clientId: 'bb',
    publisher: null,
    scopes: ['files.readwrite.all', 'Mail.Send'],
    permissionLevel: PermissionLevel.HIGH,
    grantedById: 'ann',
    grantedAt: null,
    revoked: false,
    ...over,
  });
  const rule = (value: unknown) => new AppPermissionRule(condition(PolicyKind.APP_PERMISSION, value) as AppPermissionCondition);

  it('matches an app by client id (exactly) and by name (globs, case-insensitive)', () => {
    expect(rule({ clientId: 'bb' }).matches(grant())).toBe(true);
    expect(rule({ clientId: ['x', 'y'] }).matches(grant())).toBe(false);
    expect(rule({ clientId: 'BB' }).matches(grant())).toBe(false);
    expect(rule({ appName: 'backup*' }).matches(grant())).toBe(true);
    expect(rule({ appName: ['*mail*', 'Backup ?uddy'] }).matches(grant())).toBe(true);
    expect(rule({ appName: 'buddy' }).matches(grant())).toBe(false);
    expect(rule({ clientId: 'bb' }).matches(grant({ revoked: true }))).toBe(false);
  });

  it('matches live grants on permission level and scope substrings', () => {
    expect(rule({ permissionLevel: 'HIGH' }).matches(grant())).toBe(true);
    expect(rule({ permissionLevel: ['LOW', 'MEDIUM'] }).matches(grant())).toBe(false);
    expect(rule({ scopeContains: 'mail.send' }).matches(grant())).toBe(true);
    expect(rule({ scopeContains: ['calendar'] }).matches(grant())).toBe(false);
    expect(rule({ permissionLevel: 'HIGH' }).matches(grant({ revoked: true }))).toBe(false);
  });

  it('counts distinct grantors of an app', () => {
    const { grantors, evidence } = appObservation([
      grant(),
      grant({ id: 'g2', grantedById: 'bob' }),
      grant({ id: 'g3', grantedById: 'ann' }),
      grant({ id: 'g4', grantedById: null }),
    ]);
    expect(grantors).toBe(2);
    expect(evidence).toMatchObject({
      appName: 'Backup Buddy',
      grantedBy: 2,
      grantorIds: ['ann', 'bob'],
      appPermissionIds: ['g1', 'g2', 'g3', 'g4'],
    });
  });
});
