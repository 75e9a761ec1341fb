import { describe, expect, it } from 'vitest';
import { ibanValid, luhnValid } from './detectables.js';
import { generateTenant } from './generator.js';
import { resolveTenantSpec, SpecError } from './spec.js';

const NOW = Date.parse('2026-03-02T12:00:00.000Z');
const MINUTE = 60_000;
const spec = (overrides: Record<string, unknown> = {}) =>
  resolveTenantSpec({ id: 'acme', token: 'acme-test-token', seed: 42, users: 80, groups: 6, files: 120, grants: 70, ...overrides });

describe('the generator', () => {
  it('gives the same tenant for the same seed and sizes, and another for another seed', () => {
    const a = generateTenant(spec(), NOW);
    const b = generateTenant(spec(), NOW);
    expect(JSON.stringify(a.users)).toBe(JSON.stringify(b.users));
    expect({ ...a, ids: [...a.ids], paths: [...a.paths] }).toEqual({ ...b, ids: [...b.ids], paths: [...b.paths] });
    const other = generateTenant(spec({ seed: 43 }), NOW);
    expect(other.users.map((u) => u.id)).not.toEqual(a.users.map((u) => u.id));
  });

  it('makes about 5% admins with privileges, a few suspended users, and memberships in every group', () => {
    const { users, groups, memberships } = generateTenant(spec(), NOW);
    expect(users).toHaveLength(80);
    const admins = users.filter((u) => u.isAdmin);
    expect(admins.length).toBeGreaterThanOrEqual(4);
    expect(admins.length).toBeLessThanOrEqual(10); // role assignments in the history add a few
    expect(admins.every((u) => u.privileges.length > 0)).toBe(true);
    expect(users.filter((u) => u.status === 'SUSPENDED').length).toBeGreaterThanOrEqual(1);
    expect(new Set(users.map((u) => u.email)).size).toBe(80);
    for (const group of groups) expect(memberships.some((m) => m.groupId === group.id)).toBe(true);
    expect(memberships.filter((m) => m.groupId === groups[0]!.id)).toHaveLength(80);
  });

  it('plants valid card numbers, SSNs, IBANs, keys and tokens, in every format, and exposes some cards publicly', () => {
    const { files } = generateTenant(spec(), NOW);
    const planted = files.flatMap((f) => f.planted.map((p) => ({ ...p, file: f })));
    expect(new Set(planted.map((p) => p.kind))).toEqual(
      new Set(['CREDIT_CARD', 'US_SSN', 'IBAN', 'EMAIL', 'AWS_ACCESS_KEY', 'PRIVATE_KEY', 'JWT']),
    );
    for (const p of planted) {
      expect(p.file.content).toContain(p.value);
      if (p.kind === 'CREDIT_CARD') expect(luhnValid(p.value)).toBe(true);
      if (p.kind === 'IBAN') expect(ibanValid(p.value)).toBe(true);
      if (p.kind === 'US_SSN') expect(p.value).toMatch(/^(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}$/);
      if (p.kind === 'AWS_ACCESS_KEY') expect(p.value).toMatch(/^AKIA[A-Z2-7]{16}$/);
      if (p.kind === 'PRIVATE_KEY') expect(p.value).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----$/);
      if (p.kind === 'JWT') expect(p.value.split('.')).toHaveLength(3);
    }
    const exposedCards = files.filter(
      (f) => (f.sharing === 'PUBLIC' || f.sharing === 'EXTERNAL') && !f.trashed && f.planted.some((p) => p.kind === 'CREDIT_CARD'),
    );
    expect(exposedCards.length).toBeGreaterThanOrEqual(3);
    expect(new Set(files.map((f) => f.mimeType))).toEqual(new Set(['text/plain', 'text/csv', 'application/json', 'text/html']));
    for (const f of files.filter((x) => x.mimeType === 'application/json')) expect(() => JSON.parse(f.content)).not.toThrow();
    expect(files.some((f) => f.trashed)).toBe(true);
    for (const f of files.filter((x) => x.sharing === 'EXTERNAL'))
      expect(f.collaborators.some((c) => !c.endsWith('@acme.example.com'))).toBe(true);
    for (const f of files.filter((x) => x.sharing !== 'EXTERNAL'))
      expect(f.collaborators.every((c) => c.endsWith('@acme.example.com'))).toBe(true);
  });

  it('grants apps of every risk level, some to many users', () => {
    const { grants } = generateTenant(spec(), NOW);
    expect(new Set(grants.map((g) => g.risk))).toEqual(new Set(['LOW', 'MEDIUM', 'HIGH']));
    const perApp = new Map<string, number>();
    for (const g of grants) perApp.set(g.appName, (perApp.get(g.appName) ?? 0) + 1);
    expect(Math.max(...perApp.values())).toBeGreaterThanOrEqual(10);
    expect(grants.some((g) => g.scopes.includes('files.readwrite.all'))).toBe(true);
  });

  it('backfills a history with home logins, new countries, failed sign-in storms, download bursts and role assignments', () => {
    const { users, events } = generateTenant(spec(), NOW);
    const start = NOW - 7 * 24 * 60 * MINUTE;
    expect(events.every((e) => Date.parse(e.occurredAt) >= start && Date.parse(e.occurredAt) < NOW)).toBe(true);
    expect(events.map((e) => e.occurredAt)).toEqual([...events.map((e) => e.occurredAt)].sort());
    const home = new Map(users.map((u) => [u.id, u.homeCountry]));
    const logins = events.filter((e) => e.action === 'user.login' && e.scenario === 'normal');
    expect(logins.length).toBeGreaterThan(users.length);
    expect(logins.every((e) => e.category === 'SIGN_IN' && e.country === home.get(e.actorId!))).toBe(true);

    const newCountry = events.filter((e) => e.scenario === 'new_country' && e.action === 'user.login');
    expect(newCountry.length).toBeGreaterThanOrEqual(1);
    expect(newCountry.every((e) => e.country !== home.get(e.actorId!))).toBe(true);

    const failed = events.filter((e) => e.scenario === 'failed_storm' && !e.succeeded);
    const stormUser = failed[0]!.actorId;
    const storm = failed.filter((e) => e.actorId === stormUser).map((e) => Date.parse(e.occurredAt));
    expect(storm.length).toBeGreaterThanOrEqual(15);
    expect(Math.max(...storm) - Math.min(...storm)).toBeLessThanOrEqual(5 * MINUTE);

    const burst = events.filter((e) => e.scenario === 'download_burst');
    expect(burst.length).toBeGreaterThanOrEqual(40);
    expect(burst.every((e) => e.action === 'file.download' && e.targetType === 'file' && e.targetId)).toBe(true);

    const roles = events.filter((e) => e.action === 'admin.role.assign');
    expect(roles.length).toBeGreaterThanOrEqual(1);
    for (const e of roles) {
      expect(e.category).toBe('ADMIN');
      expect(users.find((u) => u.id === e.targetId)!.isAdmin).toBe(true);
    }
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
  });

  it('draws each event visibility delay within [0, auditLagMs]', () => {
    const { events } = generateTenant(spec({ auditLagMs: 30 * MINUTE }), NOW);
    const lags = events.map((e) => Date.parse(e.visibleAt) - Date.parse(e.occurredAt));
    expect(Math.min(...lags)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...lags)).toBeLessThanOrEqual(30 * MINUTE);
    expect(new Set(lags).size).toBeGreaterThan(events.length / 2);
  });
});

describe('the checks behind the planted values', () => {
  it('accept known-good numbers and refuse altered ones', () => {
    expect(luhnValid('4111 1111 1111 1111')).toBe(true);
    expect(luhnValid('4111 1111 1111 1112')).toBe(false);
    expect(ibanValid('GB82 WEST 1234 5698 7654 32')).toBe(true);
    expect(ibanValid('GB82 WEST 1234 5698 7654 33')).toBe(false);
    expect(ibanValid('DE89 3704 0044 0532 0130 00')).toBe(true);
  });
});

describe('tenant specs', () => {
  it('fill defaults and refuse bad fields by name', () => {
    const resolved = resolveTenantSpec({ id: 'x1', token: 'token-123' });
    expect(resolved).toMatchObject({
      seed: 1,
      backfillDays: 7,
      maxPageSize: 200,
      changeRetentionMs: 3_600_000,
      faults: { errorRate: 0, dropRate: 0 },
    });
    expect(() => resolveTenantSpec({ id: 'Bad Id', token: 'token-123' })).toThrow(
      new SpecError('tenant.id: must be 1-63 lowercase letters, digits or dashes'),
    );
    expect(() => resolveTenantSpec({ id: 'x', token: 'short' })).toThrow(/tenant\.token: must be at least 8 characters/);
    expect(() => resolveTenantSpec({ id: 'x', token: 'token-123', faults: { errorRate: 2 } })).toThrow(
      /tenant\.faults\.errorRate: must be between 0 and 1/,
    );
    expect(() => resolveTenantSpec({ id: 'x', token: 'token-123', usres: 3 })).toThrow(/usres/);
  });
});
