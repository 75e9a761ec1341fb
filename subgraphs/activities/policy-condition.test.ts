import { describe, expect, it } from 'vitest';
import { parseCidr, parsePolicyCondition } from './policy-condition.js';
import { PolicyKind } from './policy.entity.js';

const { ACTIVITY, FILE, APP_PERMISSION } = PolicyKind;

/** The field a condition is refused on ('' for the whole condition), or 'ok'. */
function refusedField(kind: PolicyKind, condition: unknown): string {
  const result = parsePolicyCondition(kind, condition);
  return result.ok ? 'ok' : result.field;
}

describe('parsePolicyCondition', () => {
  it('accepts every field of each kind and normalizes single values to lists and countries to upper case', () => {
    const activity = parsePolicyCondition(ACTIVITY, {
      action: 'file.*',
      category: ['USER', 'SIGN_IN'],
      succeeded: true,
      actorIsAdmin: false,
      country: { notIn: ['us', 'DE'] },
      ipInCidr: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'],
      threshold: { count: 5, windowMinutes: 15 },
      windowMinutes: 120,
    });
    expect(activity).toEqual({
      ok: true,
      value: {
        kind: ACTIVITY,
        condition: {
          action: ['file.*'],
          category: ['USER', 'SIGN_IN'],
          succeeded: true,
          actorIsAdmin: false,
          country: { notIn: ['US', 'DE'] },
          ipInCidr: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'],
          threshold: { count: 5, windowMinutes: 15 },
          windowMinutes: 120,
        },
      },
    });
    expect(
      parsePolicyCondition(FILE, {
        sharing: 'PUBLIC',
        sensitiveType: 'US_SSN',
        minCount: 2,
        trashed: false,
        ownerIsAdmin: true,
        namePattern: '*.csv',
      }),
    ).toMatchObject({
      ok: true,
      value: { condition: { sharing: ['PUBLIC'], sensitiveType: ['US_SSN'], namePattern: ['*.csv'] } },
    });
    expect(parsePolicyCondition(APP_PERMISSION, { permissionLevel: 'HIGH', scopeContains: 'mail.', grantedByAtLeast: 10 })).toMatchObject({
      ok: true,
      value: { condition: { permissionLevel: ['HIGH'], scopeContains: ['mail.'], grantedByAtLeast: 10 } },
    });
    expect(refusedField(ACTIVITY, { country: { in: 'FR' } })).toBe('ok');
    expect(refusedField(ACTIVITY, { country: { newForActor: true } })).toBe('ok');
  });

  it.each([
    [ACTIVITY, 'a string', ''],
    [ACTIVITY, ['action'], ''],
    [ACTIVITY, {}, ''],
    [ACTIVITY, { windowMinutes: 30 }, ''],
    [ACTIVITY, { colour: 'red' }, 'colour'],
    [ACTIVITY, { action: 42 }, 'action'],
    [ACTIVITY, { action: ['file.view', ''] }, 'action.1'],
    [ACTIVITY, { action: [] }, 'action'],
    [ACTIVITY, { category: 'LOGIN' }, 'category'],
    [ACTIVITY, { succeeded: 'yes' }, 'succeeded'],
    [ACTIVITY, { country: { in: ['US'], notIn: ['DE'] } }, 'country'],
    [ACTIVITY, { country: {} }, 'country'],
    [ACTIVITY, { country: { in: ['USA'] } }, 'country.in.0'],
    [ACTIVITY, { country: { newForActor: false } }, 'country.newForActor'],
    [ACTIVITY, { country: { near: 'US' } }, 'country.near'],
    [ACTIVITY, { ipInCidr: '10.0.0.0/33' }, 'ipInCidr'],
    [ACTIVITY, { ipInCidr: ['10.0.0.0/8', '2001:db8::/129'] }, 'ipInCidr.1'],
    [ACTIVITY, { ipInCidr: ['10.0.0.0/8/8'] }, 'ipInCidr.0'],
    [ACTIVITY, { ipInCidr: ['example.com/8'] }, 'ipInCidr.0'],
    [ACTIVITY, { threshold: { count: 1, windowMinutes: 5 } }, 'threshold.count'],
    [ACTIVITY, { threshold: { count: 2.5, windowMinutes: 5 } }, 'threshold.count'],
    [ACTIVITY, { threshold: { count: 5 } }, 'threshold.windowMinutes'],
    [ACTIVITY, { threshold: { count: 5, windowMinutes: 20_000 } }, 'threshold.windowMinutes'],
    [ACTIVITY, { threshold: { count: 5, windowMinutes: 5, per: 'ip' } }, 'threshold.per'],
    [ACTIVITY, { action: 'x', windowMinutes: 0 }, 'windowMinutes'],
    [FILE, { sharing: 'WORLD' }, 'sharing'],
    [FILE, { sensitiveType: ['CREDIT_CARD'] }, 'sensitiveType.0'],
    [FILE, { sensitiveType: 'IBAN', minCount: 0 }, 'minCount'],
    [FILE, { namePattern: '*a*a*a*a*a*a*a*a*a*a*a*' }, 'namePattern'],
    [FILE, { namePattern: 'x'.repeat(201) }, 'namePattern'],
    [FILE, { action: 'file.download' }, 'action'],
    [APP_PERMISSION, { permissionLevel: 'CRITICAL' }, 'permissionLevel'],
    [APP_PERMISSION, { grantedByAtLeast: 0 }, 'grantedByAtLeast'],
    [APP_PERMISSION, { scopeContains: [''] }, 'scopeContains.0'],
  ])('%s %j is refused at "%s"', (kind, condition, field) => {
    expect(refusedField(kind, condition)).toBe(field);
  });

  it('says what is accepted', () => {
    expect(parsePolicyCondition(ACTIVITY, { colour: 'red' })).toMatchObject({
      message: expect.stringContaining('accepted: action, category, succeeded'),
    });
    expect(parsePolicyCondition(ACTIVITY, { country: { near: 'US' } })).toMatchObject({
      message: expect.stringContaining('accepted: in, notIn, newForActor'),
    });
    expect(parsePolicyCondition(FILE, { sharing: 'WORLD' })).toMatchObject({
      message: 'must be one of PRIVATE, INTERNAL, EXTERNAL, PUBLIC',
    });
    expect(parsePolicyCondition(ACTIVITY, { threshold: { count: 5 } })).toMatchObject({
      message: 'is required: a whole number of minutes',
    });
    expect(parsePolicyCondition(ACTIVITY, {})).toMatchObject({ message: expect.stringMatching(/^must set at least one of action, /) });
  });
});

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { address: '10.0.0.0', prefix: 8, family: 'ipv4' }],
    ['192.0.2.1', { address: '192.0.2.1', prefix: 32, family: 'ipv4' }],
    ['0.0.0.0/0', { address: '0.0.0.0', prefix: 0, family: 'ipv4' }],
    ['2001:db8::/32', { address: '2001:db8::', prefix: 32, family: 'ipv6' }],
    ['::1', { address: '::1', prefix: 128, family: 'ipv6' }],
    ['10.0.0.0/33', null],
    ['2001:db8::/129', null],
    ['10.0.0/8', null],
    ['10.0.0.0/', null],
    ['10.0.0.0/-1', null],
    ['10.0.0.0/8/1', null],
  ])('%s', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });
});
