import { createSign } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Connection } from 'jsforce';
import { generate } from 'selfsigned';
import { Agent, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loopbackTls } from '../loopback-tls.js';
import { checksumSuffix } from './ids.js';
import { startSalesforceEmulator, type SalesforceEmulator, type SalesforceOrgControl, type SalesforceOrgSpec } from './index.js';

const SALES = `00D5g000004SaLe${checksumSuffix('00D5g000004SaLe')}`;
const MARKETING = `00D5g000009MaRk${checksumSuffix('00D5g000009MaRk')}`;
const KEY = '3MVG9emulator.sales.consumer.key';
const MKEY = '3MVG9emulator.marketing.consumer.key';
const SECRET = 'marketing-consumer-secret-0123';
const USER = 'integration@sales.example.com';
const MUSER = 'integration@marketing.example.com';
const V = '/services/data/v62.0';
/** Answers of the REST API as the tests read them (records, errors, blobs: shapes vary by resource). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

let keys: { cert: string; key: string };
let otherKey: string;
let emulator: SalesforceEmulator;
let sales: SalesforceOrgControl;
let marketing: SalesforceOrgControl;
let previousDispatcher: Dispatcher;
let agent: Agent;

const spec = (over: Partial<SalesforceOrgSpec> & Pick<SalesforceOrgSpec, 'organizationId' | 'connectedApps'>): SalesforceOrgSpec => ({
  seed: 5,
  users: 60,
  admins: 2,
  frozen: 2,
  inactive: 3,
  externalUsers: 2,
  groups: 3,
  files: 20,
  publicLinks: 3,
  oauthTokens: 8,
  backfillDays: 1,
  loginsPerUserPerDay: 2,
  setupChangesPerDay: 6,
  ...over,
});

function assertion(claims: Record<string, unknown>, key = keys.key): string {
  const head = Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createSign('RSA-SHA256').update(`${head}.${body}`).sign(key).toString('base64url');
  return `${head}.${body}.${signature}`;
}
const claims = (over: Record<string, unknown> = {}) => ({
  iss: KEY,
  sub: USER,
  aud: 'https://login.salesforce.com',
  exp: Math.floor(Date.now() / 1000) + 170,
  ...over,
});

async function token(url: string, form: Record<string, string>): Promise<{ status: number; body: Record<string, string> }> {
  const response = await fetch(`${url}/services/oauth2/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
}
const jwt = (url: string, over: Record<string, unknown> = {}, key?: string) =>
  token(url, { grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: assertion(claims(over), key) });

async function salesToken(): Promise<string> {
  const answer = await jwt(sales.instanceUrl);
  expect(answer.status).toBe(200);
  return answer.body.access_token!;
}

async function api(
  org: SalesforceOrgControl,
  accessToken: string,
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  const response = await fetch(`${org.instanceUrl}${path.startsWith('/services') ? path : `${V}${path}`}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json', ...init.headers },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  const text = await response.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // a blob
  }
  return { status: response.status, headers: response.headers, body: body as Json };
}
const soql = (org: SalesforceOrgControl, accessToken: string, q: string, all = false) =>
  api(org, accessToken, `/${all ? 'queryAll' : 'query'}?q=${encodeURIComponent(q)}`);

async function waitFor(condition: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

beforeAll(async () => {
  const pems = await generate([{ name: 'commonName', value: 'salesforce-emulator-test' }], {
    keyType: 'rsa',
    keySize: 2048,
    algorithm: 'sha256',
  });
  keys = { cert: pems.cert, key: pems.private };
  otherKey = (await generate([{ name: 'commonName', value: 'other' }], { keyType: 'rsa', keySize: 2048, algorithm: 'sha256' })).private;
  const tls = await loopbackTls();
  // HTTPS as Salesforce is: this process's fetch and jsforce (node-fetch on https.globalAgent) trust the loopback certificate.
  previousDispatcher = getGlobalDispatcher();
  agent = new Agent({ connect: { ca: [tls.cert] } });
  setGlobalDispatcher(agent);
  https.globalAgent.options.ca = [tls.cert];
  emulator = await startSalesforceEmulator({
    tls,
    orgs: [
      spec({
        organizationId: SALES,
        name: 'Sales',
        pageSize: 25,
        outboundRetryMs: 50,
        connectedApps: [{ consumerKey: KEY, certificatePem: keys.cert, username: USER }],
      }),
      spec({
        organizationId: MARKETING,
        name: 'Marketing',
        seed: 9,
        users: 30,
        dailyApiLimit: 50_000,
        connectedApps: [{ consumerKey: MKEY, consumerSecret: SECRET, clientCredentials: true, username: MUSER }],
      }),
    ],
  });
  sales = emulator.org(SALES);
  marketing = emulator.org(MARKETING);
});

afterAll(async () => {
  await emulator?.stop();
  setGlobalDispatcher(previousDispatcher);
  await agent?.close();
  delete https.globalAgent.options.ca;
});

describe('OAuth 2.0 server-to-server flows', () => {
  it('issues a token to jsforce through the JWT bearer flow, and jsforce queries with it', async () => {
    const connection = new Connection({ loginUrl: sales.instanceUrl, version: '62.0' });
    const user = await connection.authorize({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion: assertion(claims()) });
    expect(user.organizationId).toBe(SALES);
    expect(connection.instanceUrl).toBe(sales.instanceUrl);
    const result = await connection.query<{ Id: string; Username: string; Profile: { Name: string } | null }>(
      'SELECT Id, Username, Profile.Name FROM User WHERE IsActive = true ORDER BY Id LIMIT 30',
    );
    expect(result.totalSize).toBe(30);
    expect(result.records[0]!.Id).toMatch(/^005\w{15}$/);
    expect(result.records.some((u) => u.Profile?.Name === 'System Administrator')).toBe(true);
    expect(connection.limitInfo.apiUsage?.used).toBeGreaterThan(0);
    // jsforce follows nextRecordsUrl under the org's base path (pages of 25 here).
    const all = await connection.query('SELECT Id FROM LoginHistory').run({ autoFetch: true, maxFetch: 100_000 });
    expect(all.records.length).toBe(all.totalSize);
  });

  it('answers the documented invalid_grant errors', async () => {
    expect((await jwt(sales.instanceUrl, { aud: 'https://evil.example.com' })).body).toEqual({
      error: 'invalid_grant',
      error_description: 'audience is invalid',
    });
    expect((await jwt(sales.instanceUrl, { exp: Math.floor(Date.now() / 1000) - 10 })).body.error_description).toBe(
      'expired authorization code',
    );
    expect((await jwt(sales.instanceUrl, { iss: 'nobody' })).body).toEqual({
      error: 'invalid_client_id',
      error_description: 'client identifier invalid',
    });
    expect((await jwt(sales.instanceUrl, { sub: 'someone@sales.example.com' })).body.error_description).toBe(
      "user hasn't approved this consumer",
    );
    expect((await jwt(sales.instanceUrl, {}, otherKey)).body).toEqual({ error: 'invalid_grant', error_description: 'invalid assertion' });
    const generic = await jwt(emulator.loginUrl);
    expect(generic.status).toBe(200);
    expect(generic.body.instance_url).toBe(sales.instanceUrl);
    sales.refuseTokens(true);
    expect((await jwt(sales.instanceUrl)).status).toBe(400);
    sales.refuseTokens(false);
  });

  it('runs the client credentials flow only on the My Domain URL', async () => {
    const form = { grant_type: 'client_credentials', client_id: MKEY, client_secret: SECRET };
    expect((await token(emulator.loginUrl, form)).body.error_description).toBe('request not supported on this domain');
    expect((await token(marketing.instanceUrl, { ...form, client_secret: 'wrong-secret-value' })).body.error).toBe('invalid_client');
    const ok = await token(marketing.instanceUrl, form);
    expect(ok.body).toMatchObject({ token_type: 'Bearer', instance_url: marketing.instanceUrl, scope: 'api' });
    expect(ok.body.signature).toBeTruthy();
    expect((await api(marketing, ok.body.access_token!, '/limits')).status).toBe(200);
  });

  it('ends sessions: an expired token answers 401 INVALID_SESSION_ID', async () => {
    const accessToken = await salesToken();
    expect((await api(sales, accessToken, '/limits')).status).toBe(200);
    expect(sales.expireTokens()).toBeGreaterThan(0);
    const answer = await api(sales, accessToken, '/limits');
    expect(answer.status).toBe(401);
    expect(answer.body).toEqual([{ message: 'Session expired or invalid', errorCode: 'INVALID_SESSION_ID' }]);
  });
});

describe('SOQL', () => {
  it('filters, orders and follows parent relationships', async () => {
    const t = await salesToken();
    const truth = sales.truth();
    const frozen = await soql(sales, t, 'SELECT Id, UserId, IsFrozen FROM UserLogin WHERE IsFrozen = true');
    expect(frozen.body.totalSize).toBe(truth.users.filter((u) => u.IsFrozen).length);
    const q = `SELECT Username, Profile.Name FROM User WHERE (UserType = 'Standard' AND IsActive = false) OR Username LIKE 'integration%' ORDER BY Username DESC NULLS LAST`;
    const users = await soql(sales, t, q);
    expect(users.status).toBe(200);
    expect(users.body.totalSize).toBe(truth.users.filter((u) => !u.IsActive).length + 1);
    const names = users.body.records.map((r: { Username: string }) => r.Username);
    expect(names).toEqual([...names].sort((a: string, b: string) => b.toLowerCase().localeCompare(a.toLowerCase())));
    const ids = truth.users.slice(0, 3).map((u) => u.Id);
    const some = await soql(
      sales,
      t,
      `SELECT Id FROM User WHERE Id IN ('${ids[0]!.slice(0, 15)}', '${ids[1]}') AND Id NOT IN ('${ids[2]}')`,
    );
    expect(some.body.records.map((r: { Id: string }) => r.Id)).toEqual(ids.slice(0, 2));
    const recent = await soql(sales, t, 'SELECT COUNT() FROM LoginHistory WHERE LoginTime = LAST_N_DAYS:2');
    expect(recent.body).toMatchObject({ totalSize: truth.loginHistory.filter((l) => l.visible).length, done: true, records: [] });
    const window = await soql(
      sales,
      t,
      `SELECT Id, LoginGeo.CountryIso FROM LoginHistory WHERE LoginTime >= ${new Date(Date.now() - 3_600_000).toISOString()} ORDER BY LoginTime, Id LIMIT 5 OFFSET 1`,
    );
    expect(window.status).toBe(200);
    expect(window.body.records[0]?.LoginGeo?.CountryIso ?? 'US').toMatch(/^[A-Z]{2}$/);
    const privileged = await soql(
      sales,
      t,
      'SELECT Id, Name, IsOwnedByProfile FROM PermissionSet WHERE PermissionsModifyAllData = true OR PermissionsViewAllData = true',
    );
    expect(privileged.body.records.some((p: { IsOwnedByProfile: boolean }) => p.IsOwnedByProfile)).toBe(true);
  });

  it('refuses what it cannot run with the documented error codes', async () => {
    const t = await salesToken();
    const error = async (q: string) => {
      const answer = await soql(sales, t, q);
      expect(answer.status).toBe(400);
      return answer.body[0] as { errorCode: string; message: string };
    };
    expect((await error('SELECT Id FORM User')).errorCode).toBe('MALFORMED_QUERY');
    expect((await error("SELECT Id FROM User WHERE IsActive = true AND Name = 'a' OR Name = 'b'")).errorCode).toBe('MALFORMED_QUERY');
    const field = await error('SELECT Id, Nickname FROM User');
    expect(field.errorCode).toBe('INVALID_FIELD');
    expect(field.message).toContain("No such column 'Nickname' on entity 'User'");
    expect(field.message).toContain('ERROR at Row:1:Column:12');
    expect((await error('SELECT Id FROM Account')).errorCode).toBe('INVALID_TYPE');
    expect((await error("SELECT Id FROM User WHERE Id = 'nope'")).errorCode).toBe('INVALID_QUERY_FILTER_OPERATOR');
    expect((await error("SELECT Id FROM User WHERE IsActive = 'true'")).message).toContain('must be of type boolean');
    expect((await error('SELECT Id FROM User LIMIT 10 OFFSET 2001')).errorCode).toBe('NUMBER_OUTSIDE_VALID_RANGE');
    expect((await error('SELECT Id FROM ContentDocumentLink')).message).toContain('Implementation restriction: ContentDocumentLink');
    expect((await error('SELECT Id, (SELECT Id FROM GroupMembers) FROM Group')).errorCode).toBe('MALFORMED_QUERY');
  });

  it('pages by nextRecordsUrl and refuses an unknown locator', async () => {
    const t = await salesToken();
    const first = await soql(sales, t, 'SELECT Id FROM User ORDER BY Id');
    expect(first.body.records).toHaveLength(25);
    expect(first.body.done).toBe(false);
    expect(first.body.nextRecordsUrl).toMatch(/^\/services\/data\/v62\.0\/query\/01g\w{15}-25$/);
    const ids = first.body.records.map((r: { Id: string }) => r.Id);
    let next: string | undefined = first.body.nextRecordsUrl;
    while (next) {
      const more = await api(sales, t, next);
      ids.push(...more.body.records.map((r: { Id: string }) => r.Id));
      next = more.body.nextRecordsUrl;
    }
    expect(ids).toEqual(sales.truth().users.map((u) => u.Id));
    const bad = await api(sales, t, '/query/01g000000000000AAA-25');
    expect(bad.body).toEqual([{ message: 'invalid query locator', errorCode: 'INVALID_QUERY_LOCATOR' }]);
    // marketing keeps Salesforce's 2,000 and honours Sforce-Query-Options from 200.
    const m = (await token(marketing.instanceUrl, { grant_type: 'client_credentials', client_id: MKEY, client_secret: SECRET })).body
      .access_token!;
    const batch = await api(marketing, m, `/query?q=${encodeURIComponent('SELECT Id FROM LoginGeo')}`, {
      headers: { 'sforce-query-options': 'batchSize=200' },
    });
    expect(batch.body.records.length).toBe(Math.min(200, batch.body.totalSize));
  });
});

describe('limits', () => {
  it('reports api usage on every answer and refuses past the daily allocation', async () => {
    const t = (await token(marketing.instanceUrl, { grant_type: 'client_credentials', client_id: MKEY, client_secret: SECRET })).body
      .access_token!;
    const first = await api(marketing, t, '/limits');
    const [used, max] = first.headers.get('sforce-limit-info')!.replace('api-usage=', '').split('/').map(Number);
    expect(max).toBe(50_000);
    expect(first.body.DailyApiRequests).toEqual({ Max: 50_000, Remaining: 50_000 - used! });
    marketing.spendQuota(100);
    expect(marketing.truth().quota.used).toBe(used! + 100);
    marketing.setDailyLimit(used! + 101);
    expect((await api(marketing, t, '/limits')).status).toBe(200);
    const refused = await api(marketing, t, '/limits');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual([{ message: 'TotalRequests Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(refused.headers.get('sforce-limit-info')).toBe(`api-usage=${used! + 101}/${used! + 101}`);
    marketing.setDailyLimit(50_000);
    marketing.setThrottleRate(1);
    const throttled = await api(marketing, t, '/limits');
    expect(throttled.body).toEqual([{ message: 'ConcurrentPerOrgLongTxn Limit exceeded.', errorCode: 'REQUEST_LIMIT_EXCEEDED' }]);
    expect(marketing.throttled()).toBe(1);
    marketing.setThrottleRate(0);
  });
});

describe('two orgs', () => {
  it('keeps data, ids and sessions apart', async () => {
    const s = sales.truth();
    const m = marketing.truth();
    expect(s.users.length).not.toBe(m.users.length);
    const salesIds = new Set([...s.users, ...s.files, ...s.oauthTokens].map((x) => x.Id));
    expect([...m.users, ...m.files, ...m.oauthTokens].filter((x) => salesIds.has(x.Id))).toEqual([]);
    const t = await salesToken();
    expect((await api(marketing, t, '/limits')).status).toBe(401);
    expect(s.quota.max).not.toBe(m.quota.max);
  });
});

describe('governance and change', () => {
  it('applies freeze, password reset, token and sharing removals, trash and new versions, recording each', async () => {
    const t = await salesToken();
    const truth = sales.truth();
    const user = truth.users.find((u) => u.status === 'active' && u.UserType === 'Standard' && u.Username !== USER)!;
    const login = (await soql(sales, t, `SELECT Id FROM UserLogin WHERE UserId = '${user.Id}'`)).body.records[0].Id as string;
    expect((await api(sales, t, `/sobjects/UserLogin/${login}`, { method: 'PATCH', body: { IsFrozen: true } })).status).toBe(204);
    expect(sales.truth().users.find((u) => u.Id === user.Id)!.status).toBe('frozen');
    const reset = await api(sales, t, `/sobjects/User/${user.Id}/password`, { method: 'DELETE' });
    expect(reset.body.NewPassword).toMatch(/\w{8,}/);
    expect((await api(sales, t, `/sobjects/User/${user.Id}/password`)).body).toEqual({ isExpired: true });
    const grant = truth.oauthTokens[0]!.Id;
    expect((await api(sales, t, `/sobjects/OauthToken/${grant}`, { method: 'DELETE' })).status).toBe(204);
    const shared = truth.files.find((f) => f.distributions.length)!;
    const distribution = shared.distributions[0]!.Id;
    expect((await api(sales, t, `/sobjects/ContentDistribution/${distribution}`, { method: 'DELETE' })).status).toBe(204);
    // A deleted public link is in the recycle bin: queryAll finds it with IsDeleted, query does not.
    const since = `SELECT Id, ContentDocumentId, SystemModstamp, IsDeleted FROM ContentDistribution WHERE SystemModstamp >= 2000-01-01T00:00:00Z ORDER BY SystemModstamp, Id`;
    const all = (await soql(sales, t, since, true)).body.records as { Id: string; IsDeleted: boolean }[];
    expect(all.find((d) => d.Id === distribution)).toMatchObject({ IsDeleted: true });
    expect(((await soql(sales, t, since)).body.records as { Id: string }[]).map((d) => d.Id)).not.toContain(distribution);
    expect(
      sales
        .truth()
        .files.find((f) => f.Id === shared.Id)!
        .distributions.map((d) => d.Id),
    ).not.toContain(distribution);
    const link = shared.links[0]!;
    expect(
      (await api(sales, t, `/sobjects/ContentDocumentLink/${link.Id}`, { method: 'PATCH', body: { Visibility: 'Everyone' } })).body[0]
        .errorCode,
    ).toBe('INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST');
    expect(
      (await api(sales, t, `/sobjects/ContentDocumentLink/${link.Id}`, { method: 'PATCH', body: { Visibility: 'InternalUsers' } })).status,
    ).toBe(204);
    const version = await api(sales, t, '/sobjects/ContentVersion', {
      method: 'POST',
      body: {
        ContentDocumentId: shared.Id,
        VersionData: Buffer.from('redacted').toString('base64'),
        PathOnClient: 'redacted.txt',
        ReasonForChange: 'DLP',
      },
    });
    expect(version.status).toBe(201);
    const latest = await soql(
      sales,
      t,
      `SELECT Id, IsLatest, VersionData FROM ContentVersion WHERE ContentDocumentId = '${shared.Id}' AND IsLatest = true`,
    );
    expect(latest.body.records[0].Id).toBe(version.body.id);
    const bytes = await api(sales, t, latest.body.records[0].VersionData as string);
    expect(bytes.body).toBe('redacted');
    const before = Date.now() - 1;
    const doomed = truth.files.find((f) => f.Id !== shared.Id)!;
    expect((await api(sales, t, `/sobjects/ContentDocument/${doomed.Id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await soql(sales, t, `SELECT Id FROM ContentDocument WHERE Id = '${doomed.Id}'`)).body.totalSize).toBe(0);
    const bin = await soql(
      sales,
      t,
      `SELECT Id, SystemModstamp FROM ContentDocument WHERE IsDeleted = true AND SystemModstamp >= ${new Date(before).toISOString()}`,
      true,
    );
    expect(bin.body.records.map((r: { Id: string }) => r.Id)).toEqual([doomed.Id]);
    expect(sales.truth().governance.map((g) => [g.operation, g.targetId])).toEqual([
      ['user.freeze', user.Id],
      ['user.passwordReset', user.Id],
      ['oauthToken.delete', grant],
      ['contentDistribution.delete', shared.Id],
      ['contentDocumentLink.update', shared.Id],
      ['contentVersion.create', shared.Id],
      ['contentDocument.delete', doomed.Id],
    ]);
  });

  it('runs composite subrequests with references, rolling back all or none', async () => {
    const t = await salesToken();
    const answer = await api(sales, t, '/composite', {
      method: 'POST',
      body: {
        allOrNone: false,
        compositeRequest: [
          {
            method: 'GET',
            url: `${V}/query?q=${encodeURIComponent("SELECT Id FROM Group WHERE Type = 'Regular' ORDER BY Id LIMIT 1")}`,
            referenceId: 'groups',
          },
          {
            method: 'GET',
            url: `${V}/query?q=${encodeURIComponent("SELECT UserOrGroupId FROM GroupMember WHERE GroupId = '")}@{groups.records[0].Id}'`,
            referenceId: 'members',
          },
        ],
      },
    });
    expect(answer.body.compositeResponse.map((r: { httpStatusCode: number }) => r.httpStatusCode)).toEqual([200, 200]);
    const group = sales.truth().groups[0]!;
    expect(answer.body.compositeResponse[1].body.totalSize).toBe(group.members.length);
    const file = sales.truth().files.find((f) => !f.deleted && f.links.length > 1)!;
    const rolled = await api(sales, t, '/composite', {
      method: 'POST',
      body: {
        allOrNone: true,
        compositeRequest: [
          { method: 'DELETE', url: `${V}/sobjects/ContentDocumentLink/${file.links[1]!.Id}`, referenceId: 'unlink' },
          { method: 'DELETE', url: `${V}/sobjects/OauthToken/0CQ000000000000AAA`, referenceId: 'missing' },
        ],
      },
    });
    expect(rolled.body.compositeResponse.map((r: { body: { errorCode: string }[] }) => r.body[0]!.errorCode)).toEqual([
      'PROCESSING_HALTED',
      'NOT_FOUND',
    ]);
    expect(sales.truth().files.find((f) => f.Id === file.Id)!.links).toHaveLength(file.links.length);
  });

  it('deletes through sObject collections all or none, and lists deletions and describes objects', async () => {
    const t = await salesToken();
    const live = sales.truth().oauthTokens.filter((x) => !x.deleted);
    const rolled = await api(sales, t, `/composite/sobjects?allOrNone=true&ids=${live[0]!.Id},0CQ000000000000AAA`, { method: 'DELETE' });
    expect(rolled.body.map((r: { success: boolean }) => r.success)).toEqual([false, false]);
    expect(rolled.body[0].errors[0].statusCode).toBe('ALL_OR_NONE_OPERATION_ROLLED_BACK');
    expect(sales.truth().oauthTokens.find((x) => x.Id === live[0]!.Id)!.deleted).toBe(false);
    const done = await api(sales, t, `/composite/sobjects?ids=${live[0]!.Id},${live[1]!.Id}`, { method: 'DELETE' });
    expect(done.body).toEqual([
      { id: live[0]!.Id, success: true, errors: [] },
      { id: live[1]!.Id, success: true, errors: [] },
    ]);
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const end = new Date(Date.now() + 60_000).toISOString();
    const deleted = await api(sales, t, `/sobjects/ContentDocument/deleted/?start=${start}&end=${end}`);
    expect(deleted.body.deletedRecords.map((r: { id: string }) => r.id)).toEqual(
      sales
        .truth()
        .files.filter((f) => f.deleted)
        .map((f) => f.Id),
    );
    const describe = await api(sales, t, '/sobjects/ContentDocumentLink/describe');
    expect(describe.body).toMatchObject({ name: 'ContentDocumentLink', keyPrefix: '06A', deletable: true });
    expect(describe.body.fields.find((f: { name: string }) => f.name === 'Visibility')).toMatchObject({
      type: 'picklist',
      updateable: true,
    });
    const versions = await api(sales, t, '/services/data/');
    expect(versions.body.map((v: { version: string }) => v.version)).toEqual(['60.0', '61.0', '62.0']);
    expect((await api(sales, t, '/services/data/v59.0/limits')).status).toBe(404);
  });

  it('shows late records only once they are visible, past ones at once, and their log files', async () => {
    const t = await salesToken();
    const late = sales.lateRecords(3, 300);
    const visibleIds = async () =>
      (await soql(sales, t, `SELECT Id FROM LoginHistory WHERE Id IN ('${late.slice(0, 2).join("','")}')`)).body.totalSize as number;
    expect(await visibleIds()).toBeLessThan(3);
    await waitFor(async () => (await visibleIds()) === 2);
    const ago = 3 * 3_600_000;
    const past = sales.pastRecords(2, ago);
    const rows = await soql(sales, t, `SELECT Id, LoginTime FROM LoginHistory WHERE Id IN ('${past.join("','")}')`);
    expect(rows.body.totalSize).toBe(2);
    expect(Date.parse(rows.body.records[0].LoginTime.replace('+0000', 'Z'))).toBeLessThan(Date.now() - ago + 60_000);
    const files = await soql(
      sales,
      t,
      "SELECT Id, EventType, LogDate, Interval, Sequence, LogFile FROM EventLogFile WHERE EventType = 'Login' AND Interval = 'Hourly' ORDER BY LogDate DESC, Sequence DESC LIMIT 1",
    );
    const csv = (await api(sales, t, files.body.records[0].LogFile as string)).body as unknown as string;
    expect(csv.split('\n')[0]).toContain('"EVENT_TYPE","TIMESTAMP","REQUEST_ID"');
    const events = sales.truth().eventLogEvents.filter((e) => e.visible && e.eventType === 'Login');
    expect(events.some((e) => csv.includes(e.requestId))).toBe(true);
  });

  it('sends an outbound message for a new version, again until acknowledged', async () => {
    let calls = 0;
    const bodies: string[] = [];
    const receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls++;
        bodies.push(body);
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end(
          calls === 1
            ? '<nope/>'
            : '<soapenv:Envelope><soapenv:Body><notificationsResponse><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>',
        );
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      sales.update({ outboundMessageUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/outbound` });
      const file = sales.truth().files.find((f) => !f.deleted)!;
      const versionId = sales.changeFile(file.Id);
      expect(sales.truth().files.find((f) => f.Id === file.Id)!.LatestPublishedVersionId).toBe(versionId);
      // The first answer has no Ack: the message is sent again (after outboundRetryMs) until one has.
      await waitFor(() => sales.truth().outboundMessages.some((d) => d.versionId === versionId && d.acked));
      expect(calls).toBe(2);
      expect(bodies[0]).toContain(`<sf:Id>${versionId}</sf:Id>`);
      expect(bodies[0]).toContain(`<OrganizationId>${SALES}</OrganizationId>`);
    } finally {
      sales.setOutboundMessageUrl(null);
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
