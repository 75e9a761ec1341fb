import { Supergraph } from '@apollo/federation-internals';
import {
  buildSchema,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isIntrospectionType,
  isObjectType,
  isSpecifiedScalarType,
  type GraphQLSchema,
} from 'graphql';
import { describe, expect, it } from 'vitest';
import { composeSupergraph } from './supergraph.js';

/** Federation's own types, should an API schema ever carry them. */
const FEDERATION_INTERNAL = /^(_Service|_Entity|_Any|link__.*|join__.*)$/;

const described = (element: { description?: string | null }) => (element.description ?? '').trim() !== '';

/**
 * Every element of the public graph without a description, named as a frontend developer would look
 * it up: `Type`, `Type.field`, `Type.field(argument)`, `Input.field`, `Enum.VALUE`.
 */
function undescribedElements(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const types = Object.values(schema.getTypeMap())
    .filter((type) => !isIntrospectionType(type) && !isSpecifiedScalarType(type) && !FEDERATION_INTERNAL.test(type.name))
    .sort((a, b) => a.name.localeCompare(b.name));
  for (const type of types) {
    // The root operation types are documented by their fields.
    const root = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()].includes(type as never);
    if (!root && !described(type)) missing.push(type.name);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (!described(field)) missing.push(`${type.name}.${field.name}`);
        for (const arg of field.args) if (!described(arg)) missing.push(`${type.name}.${field.name}(${arg.name})`);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) if (!described(field)) missing.push(`${type.name}.${field.name}`);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) if (!described(value)) missing.push(`${type.name}.${value.name}`);
    }
  }
  return missing;
}

describe('the public graph documents itself', () => {
  it('names every kind of undocumented element (the check itself)', () => {
    const schema = buildSchema(`
      type Query { "ok" things(first: Int, "ok" after: String): [Thing!]! }
      "ok" type Thing { "ok" id: ID! status: Status! }
      enum Status { "ok" ON OFF }
      input Filter { "ok" a: Int b: Int }
      scalar Url
      "ok" type Mutation { "ok" noop(filter: Filter): Boolean }
    `);
    expect(undescribedElements(schema)).toEqual([
      'Filter',
      'Filter.b',
      'Mutation.noop(filter)',
      'Query.things(first)',
      'Status',
      'Status.OFF',
      'Thing.status',
      'Url',
    ]);
  });

  it('has a description on every type, field, argument, input field and enum value', async () => {
    const { supergraphSdl, errors } = await composeSupergraph();
    expect(errors).toEqual([]);
    // The API schema: what clients of the gateway see, without the join__/link__ machinery.
    const api = Supergraph.build(supergraphSdl!).apiSchema().toGraphQLJSSchema();
    expect(Object.keys(api.getTypeMap()).filter((name) => FEDERATION_INTERNAL.test(name))).toEqual([]);
    expect(undescribedElements(api)).toEqual([]);
  });
});
