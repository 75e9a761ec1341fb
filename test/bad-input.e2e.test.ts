import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestStack, type GraphQLAnswer, type TestStack } from './harness.js';

let t: TestStack;
let instanceId: string;

beforeAll(async () => {
  t = await startTestStack();
  instanceId = await t.fixtures.instance('Input org');
  await t.fixtures.accounts(instanceId, [{ externalId: 'u1', displayName: 'Ann' }]);
});
afterAll(() => t?.stop());

/** The single error of an answer: BAD_USER_INPUT naming `argument`, never a stack trace, never HTTP 500. */
function expectBadInput(answer: GraphQLAnswer, argument: string): void {
  expect(answer.status).toBeLessThan(500);
  expect(answer.errors).toHaveLength(1);
  const [error] = answer.errors!;
  expect(error!.extensions?.code).toBe('BAD_USER_INPUT');
  expect(error!.message).toContain(argument);
  expect(JSON.stringify(answer)).not.toMatch(/stacktrace|\bat .*\.(ts|js):\d+/);
}

describe('bad input', () => {
  it.each([
    ['account(id)', '{ account(id: "not-an-id") { id } }', 'id'],
    ['appInstance(id)', '{ appInstance(id: "42") { id } }', 'id'],
    ['activity(id)', '{ activity(id: "x") { id } }', 'id'],
    ['file(id)', '{ file(id: "x") { id } }', 'id'],
    ['appPermission(id)', '{ appPermission(id: "x") { id } }', 'id'],
    ['detection(id)', '{ detection(id: "x") { id } }', 'id'],
    ['governanceAction(id)', '{ governanceAction(id: "x") { id } }', 'id'],
    ['a filter id', '{ accounts(filter: { instanceId: "nope" }) { totalCount } }', 'filter.instanceId'],
    ['a file filter id', '{ files(filter: { ownerId: "nope" }) { totalCount } }', 'filter.ownerId'],
    ['a grant filter id', '{ appPermissions(filter: { grantedById: "nope" }) { totalCount } }', 'filter.grantedById'],
    ['an activity filter id', '{ activities(filter: { actorId: "nope" }) { totalCount } }', 'filter.actorId'],
    ['a detection filter id', '{ detections(filter: { policyId: "nope" }) { totalCount } }', 'filter.policyId'],
    ['a governance filter id', '{ governanceActions(filter: { instanceId: "nope" }) { totalCount } }', 'filter.instanceId'],
    ['groups(instanceId)', '{ groups(instanceId: "nope") { totalCount } }', 'instanceId'],
    ['a malformed cursor', '{ accounts(after: "!!!") { totalCount } }', 'after'],
    ['a cursor of the wrong shape', `{ activities(after: "${Buffer.from('["a"]').toString('base64url')}") { totalCount } }`, 'after'],
    ['first over 500', '{ files(first: 501) { totalCount } }', 'first'],
    ['a negative first', '{ appPermissions(first: -1) { totalCount } }', 'first'],
    ['first over 500 on a nested list', '{ accounts { edges { node { activities(first: 1000) { totalCount } } } } }', 'first'],
    ['an unknown enum literal', '{ accounts(filter: { status: ASLEEP }) { totalCount } }', 'filter.status'],
    [
      'an unknown enum argument',
      `mutation { requestScan(instanceId: "${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}", kind: EVERYTHING) { kind } }`,
      'kind',
    ],
    ['a bad DateTime', '{ activities(filter: { from: "yesterday" }) { totalCount } }', 'filter.from'],
    ['from after to', '{ activities(filter: { from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }) { totalCount } }', 'filter.from'],
    ['a wrong type in a filter', '{ files(filter: { trashed: "yes" }) { totalCount } }', 'filter.trashed'],
    ['an unknown filter field', '{ files(filter: { colour: "red" }) { totalCount } }', 'filter'],
    [
      'a connectApp config that is not an object',
      'mutation { connectApp(input: { provider: "simulated", name: "x", config: [1] }) { id } }',
      'input.config',
    ],
    [
      'a connectApp provider with spaces',
      'mutation { connectApp(input: { provider: "Sim ulated", name: "x", config: {} }) { id } }',
      'input.provider',
    ],
    ['an unknown connector', 'mutation { connectApp(input: { provider: "nosuchapp", name: "x", config: {} }) { id } }', 'input.provider'],
    [
      'a connector config without its endpoint',
      'mutation { connectApp(input: { provider: "simulated", name: "x", config: { token: "t" } }) { id } }',
      'input.config',
    ],
    [
      'a policy condition that is not an object',
      'mutation { createPolicy(input: { name: "p", kind: FILE, severity: LOW, condition: "x" }) { id } }',
      'input.condition',
    ],
  ])('%s → BAD_USER_INPUT naming the argument', async (_case, query, argument) => {
    expectBadInput(await t.request(query), argument);
  });

  it('names the variable when a variable holds the bad value', async () => {
    const answer = await t.request('query ($s: AccountStatus) { accounts(filter: { status: $s }) { totalCount } }', { s: 'ASLEEP' });
    expect(answer.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(answer.errors?.[0]?.message).toContain('$s');
  });

  it('answers null for a well-formed id that matches nothing', async () => {
    const answer = await t.query<{ account: null }>('{ account(id: "0b5e5a5e-0000-4000-8000-000000000000") { id } }');
    expect(answer.account).toBeNull();
  });

  it('refuses a mutation on an unknown id with BAD_USER_INPUT', async () => {
    expectBadInput(await t.request('mutation { disconnectApp(id: "0b5e5a5e-0000-4000-8000-000000000000") { id } }'), 'id');
  });

  it('answers a body that is not JSON with 400, not 500', async () => {
    const response = await fetch(t.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.token('viewer')}` },
      body: '{"query": ',
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code).toBe('BAD_REQUEST');
  });

  it('answers a document that does not parse, or an unknown field, with a client error code', async () => {
    const parse = await t.request('{ accounts {');
    expect(parse.status).toBe(400);
    expect(parse.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const field = await t.request('{ accounts { nope } }');
    expect(field.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it("refuses a query nested deeper than the limit, counting the graph's levels and not a connection's edges and node", async () => {
    // accounts > (groups > members) × 6 > name: 14 levels.
    const hops = (n: number, inner: string): string =>
      n === 0 ? inner : `groups { members { edges { node { ${hops(n - 1, inner)} } } } }`;
    const answer = await t.request(`{ accounts { edges { node { ${hops(6, 'displayName')} } } } }`);
    expect(answer.status).toBe(400);
    expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_DEPTH', max: 12, actual: 14 });
    expect(answer.errors?.[0]?.message).toBe('Operation is 14 fields deep; the limit is 12 (QUERY_MAX_DEPTH)');
    // Five hops through connections: 15 fields deep, 7 levels of the graph.
    const fiveHops = await t.request(
      `{ accounts(first: 2) { edges { node { ${hops(2, 'activities(first: 2) { edges { node { action } } }').replace(/members \{/g, 'members(first: 2) {')} } } } }`,
    );
    expect(fiveHops.errors).toBeUndefined();
    expect(fiveHops.status).toBe(200);
  });
});
