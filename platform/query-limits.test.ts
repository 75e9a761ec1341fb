import { buildSchema, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { checkQueryCost, depthLimit, parseLimited, queryCost, queryLimitRules, type QueryLimits } from './query-limits.js';

const schema = buildSchema(`
  type Account { id: ID!, manager: Account, instance: AppInstance, activities(first: Int, after: String): ActivityConnection! }
  type AppInstance { id: ID!, name: String, owner: Account }
  type Activity { id: ID!, action: String!, actor: Account }
  type ActivityEdge { cursor: String!, node: Activity! }
  type PageInfo { hasNextPage: Boolean!, endCursor: String }
  type ActivityConnection { edges: [ActivityEdge!]!, pageInfo: PageInfo!, totalCount: Int! }
  type Query {
    accounts: [Account!]!
    account(id: ID!): Account
    activities(first: Int, after: String): ActivityConnection!
  }
`);

const LIMITS: QueryLimits = { maxDepth: 12, maxCost: 50_000, maxAliases: 30, maxDirectives: 50, maxTokens: 5_000 };

/** Runs only the depth rule, so documents graphql-js itself would refuse (fragment cycles) reach it. */
function depthErrors(maxDepth: number, document: string): readonly GraphQLError[] {
  return validate(schema, parse(document), [depthLimit(maxDepth)]);
}

/** `{ accounts { manager { manager ... { id } } } }`, `depth` fields deep (at least 2). */
function chain(depth: number): string {
  return `{ accounts ${'{ manager '.repeat(depth - 2)}{ id }${' }'.repeat(depth - 2)} }`;
}

describe('depthLimit', () => {
  it('counts the fields on the deepest path', () => {
    expect(chain(2)).toBe('{ accounts { id } }');
    expect(depthErrors(2, chain(2))).toEqual([]);
    expect(depthErrors(1, '{ accounts { id } }')[0]?.message).toBe('Operation is 2 fields deep; the limit is 1 (QUERY_MAX_DEPTH)');
  });

  it.each([2, 5, 12])('allows an operation exactly %d fields deep', (max) => {
    expect(depthErrors(max, chain(max))).toEqual([]);
  });

  it.each([2, 5, 12])('refuses one field more than %d with QUERY_TOO_COMPLEX naming the limit', (max) => {
    const errors = depthErrors(max, chain(max + 1));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(`Operation is ${max + 1} fields deep; the limit is ${max} (QUERY_MAX_DEPTH)`);
    expect(errors[0]!.extensions).toEqual({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_DEPTH', max, actual: max + 1 });
    expect(errors[0]!.locations).toEqual([{ line: 1, column: 1 }]);
  });

  it('works next to the specified rules', () => {
    expect(validate(schema, parse(chain(4)), [...specifiedRules, depthLimit(4)])).toEqual([]);
    expect(validate(schema, parse(chain(5)), [...specifiedRules, depthLimit(4)])).toHaveLength(1);
  });

  it('does not count __typename or other introspection fields', () => {
    expect(depthErrors(2, '{ accounts { id manager { __typename } } }')).toEqual([]);
    expect(depthErrors(3, '{ accounts { id manager { __typename } } }')).toEqual([]);
    expect(depthErrors(1, '{ __typename accounts { id } }')).toHaveLength(1);
  });

  it('follows named fragments, also nested ones', () => {
    const document = `
      query { accounts { ...WithManager } }
      fragment WithManager on Account { manager { ...WithInstance } }
      fragment WithInstance on Account { instance { owner { id } } }`;
    expect(depthErrors(5, document)).toEqual([]);
    expect(depthErrors(4, document)[0]?.message).toMatch(/^Operation is 5 fields deep/);
  });

  it('follows inline fragments without counting them as a level', () => {
    const document = '{ accounts { ... on Account { manager { ... { instance { id } } } } } }';
    expect(depthErrors(4, document)).toEqual([]);
    expect(depthErrors(3, document)[0]?.message).toMatch(/^Operation is 4 fields deep/);
  });

  it('takes the deepest of sibling selections', () => {
    const document = '{ accounts { id instance { name } manager { manager { manager { id } } } } }';
    expect(depthErrors(4, document)[0]?.message).toMatch(/^Operation is 5 fields deep/);
    expect(depthErrors(5, document)).toEqual([]);
  });

  it('checks every operation of a document on its own', () => {
    const document = `query Shallow ${chain(2)}\nquery Deep ${chain(6)}`;
    const errors = depthErrors(4, document);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^Operation is 6 fields deep/);
    expect(errors[0]!.locations).toEqual([{ line: 2, column: 1 }]);
  });

  it('does not loop on a fragment that spreads itself', () => {
    const document = `
      { accounts { ...Managers } }
      fragment Managers on Account { id manager { ...Managers } }`;
    // accounts > manager, then the spread is already on the path and stops the walk.
    expect(depthErrors(2, document)).toEqual([]);
    expect(depthErrors(1, document)[0]?.message).toMatch(/^Operation is 2 fields deep/);
  });

  it('does not loop on fragments that spread each other', () => {
    const document = `
      { accounts { ...A } }
      fragment A on Account { manager { ...B } }
      fragment B on Account { instance { owner { ...A } } }`;
    expect(depthErrors(4, document)).toEqual([]);
    expect(depthErrors(3, document)[0]?.message).toMatch(/^Operation is 4 fields deep/);
    expect(validate(schema, parse(document), [...specifiedRules, depthLimit(4)]).map((e) => e.message)).toEqual([
      'Cannot spread fragment "A" within itself via "B".',
    ]);
  });

  it('ignores a spread of an unknown fragment (graphql-js reports it)', () => {
    expect(depthErrors(2, '{ accounts { id ...Missing } }')).toEqual([]);
  });

  it('measures a document of fragments each spread twice in linear time', () => {
    // 40 levels would take hours if each spread re-walked its fragment (2^40 walks).
    const levels = 40;
    const fragments = Array.from({ length: levels }, (_, i) =>
      i === levels - 1 ? `fragment F${i} on Account { id }` : `fragment F${i} on Account { manager { ...F${i + 1} ...F${i + 1} } }`,
    );
    const errors = depthErrors(100, `{ accounts { ...F0 } } ${fragments.join(' ')}`);
    expect(errors).toHaveLength(0);
    expect(depthErrors(10, `{ accounts { ...F0 } } ${fragments.join(' ')}`)[0]?.message).toMatch(/41 fields deep/);
  });
});

describe("depth on the schema's real nesting", () => {
  it("does not count a connection's edges and node as levels", () => {
    const path = '{ activities(first: 5) { edges { node { actor { activities(first: 5) { edges { node { action } } } } } } } }';
    // activities > actor > activities > action: four levels, though twelve fields deep.
    expect(depthErrors(4, path)).toEqual([]);
    expect(depthErrors(3, path)[0]?.message).toBe('Operation is 4 fields deep; the limit is 3 (QUERY_MAX_DEPTH)');
  });

  it('counts a field named edges or node without a selection like any other', () => {
    expect(depthErrors(1, '{ activities { totalCount } }')[0]?.message).toMatch(/2 fields deep/);
  });
});

describe('queryCost', () => {
  const cost = (document: string, variables?: Record<string, unknown>) => queryCost(schema, parse(document), variables);

  it('weighs what a connection selects by its first, 50 when omitted', () => {
    expect(cost('{ activities(first: 500) { edges { node { id action } } } }')).toBe(1 + 500 * (1 + (1 + 2)));
    expect(cost('{ activities { edges { node { id } } } }')).toBe(1 + 50 * 3);
    expect(cost('query ($n: Int) { activities(first: $n) { totalCount } }', { n: 7 })).toBe(1 + 7 * 1);
    expect(cost('{ activities(first: 0) { edges { node { id } } } }')).toBe(1);
  });

  it('multiplies nested connections and adds siblings and aliases', () => {
    const nested = '{ activities(first: 10) { edges { node { actor { activities(first: 20) { totalCount } } } } } }';
    expect(cost(nested)).toBe(1 + 10 * (1 + (1 + (1 + (1 + 20)))));
    expect(cost('{ a: activities(first: 2) { totalCount } b: activities(first: 3) { totalCount } }')).toBe(3 + 4);
  });

  it('answers undefined when the variables do not fit (execution refuses them)', () => {
    expect(cost('query ($n: Int!) { activities(first: $n) { totalCount } }', { n: 'many' })).toBeUndefined();
  });

  it('refuses the thousand-alias attack with QUERY_TOO_COMPLEX naming QUERY_MAX_COST and the cost', () => {
    const aliases = Array.from({ length: 1000 }, (_, i) => `a${i}: activities(first: 500) { edges { node { id action } } }`).join(' ');
    const document = parse(`{ ${aliases} }`);
    expect(() => checkQueryCost(LIMITS, schema, document, {})).toThrow(
      "The operation's estimated cost is 2,001,000; the limit is 50,000 (QUERY_MAX_COST): ask for fewer items (first) or fewer fields",
    );
    try {
      checkQueryCost(LIMITS, schema, document, {});
    } catch (error) {
      expect((error as GraphQLError).extensions).toMatchObject({
        code: 'QUERY_TOO_COMPLEX',
        limit: 'QUERY_MAX_COST',
        max: 50_000,
        actual: 2_001_000,
      });
    }
    expect(() => checkQueryCost(LIMITS, schema, parse('{ activities(first: 500) { edges { node { id action } } } }'), {})).not.toThrow();
  });
});

describe('aliases, directives and tokens', () => {
  const errors = (document: string) => validate(schema, parse(document), [...specifiedRules, ...queryLimitRules(LIMITS)]);

  it('refuses more aliases than the limit, naming it, and allows the limit', () => {
    const aliases = (n: number) => `{ ${Array.from({ length: n }, (_, i) => `a${i}: accounts { id }`).join(' ')} }`;
    expect(errors(aliases(30))).toEqual([]);
    const refused = errors(aliases(31));
    expect(refused.map((e) => e.message)).toEqual(['The operation has 31 aliases; the limit is 30 (QUERY_MAX_ALIASES)']);
    expect(refused[0]!.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_ALIASES', max: 30, actual: 31 });
  });

  it('refuses more directives than the limit', () => {
    const directives = (n: number) => `{ accounts { ${Array.from({ length: n }, () => 'id @include(if: true)').join(' ')} } }`;
    expect(errors(directives(50))).toEqual([]);
    expect(errors(directives(51)).map((e) => e.extensions?.limit)).toContain('QUERY_MAX_DIRECTIVES');
  });

  it('stops parsing a document over the token limit, naming it', () => {
    const fields = (n: number) => `{ ${'accounts { id } '.repeat(n)} }`;
    expect(() => parseLimited(fields(10), LIMITS)).not.toThrow();
    let refused: GraphQLError | undefined;
    try {
      parseLimited(fields(2_000), LIMITS);
    } catch (error) {
      refused = error as GraphQLError;
    }
    expect(refused?.message).toBe('The document has more than 5000 tokens; the limit is 5000 (QUERY_MAX_TOKENS)');
    expect(refused?.extensions).toMatchObject({ code: 'QUERY_TOO_COMPLEX', limit: 'QUERY_MAX_TOKENS', max: 5_000 });
  });
});
