import { buildSchema, parse, specifiedRules, validate, type GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { depthLimit } from './limits.js';

const schema = buildSchema(`
  type Account { id: ID!, manager: Account, instance: AppInstance }
  type AppInstance { id: ID!, name: String, owner: Account }
  type Query { accounts: [Account!]!, account(id: ID!): Account }
`);

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

  it.each([2, 5, 12])('refuses one field more than %d with BAD_USER_INPUT', (max) => {
    const errors = depthErrors(max, chain(max + 1));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toBe(`Operation is ${max + 1} fields deep; the limit is ${max} (QUERY_MAX_DEPTH)`);
    expect(errors[0]!.extensions).toEqual({ code: 'BAD_USER_INPUT' });
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
