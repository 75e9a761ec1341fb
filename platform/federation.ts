import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import { parse, type GraphQLSchema } from 'graphql';
import { buildSchema, createResolversMap, type NonEmptyArray, type PubSub } from 'type-graphql';
import { authChecker } from './auth.js';
import { scalarsMap } from './scalars.js';

const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@inaccessible"])';

/**
 * type-graphql refuses to build a schema with `@Subscription` fields unless a PubSub is given, even
 * when every field brings its own `subscribe` (ours do: they read the event log). Topics are not used
 * here, so this one refuses them loudly instead of silently never delivering.
 */
const NO_TOPICS: PubSub = {
  publish: () => {
    throw new Error('Topic-based PubSub is not used: give @Subscription a `subscribe` function');
  },
  subscribe: () => {
    throw new Error('Topic-based PubSub is not used: give @Subscription a `subscribe` function');
  },
};

/** Reference resolvers by entity type name: `(representation, context) => entity | null`. */
export type ReferenceResolvers = Record<string, (reference: { id: string }, context: never) => unknown>;

/** A decorated class, as type-graphql's buildSchema takes them (its own typing is `Function`). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
type DecoratedClass = Function;

export interface FederatedSchemaOptions {
  /** Resolver classes of this subgraph, listed explicitly (no discovery). */
  readonly resolvers: NonEmptyArray<DecoratedClass>;
  /** Types that no resolver returns but the subgraph declares (entity stubs, enums). */
  readonly orphanedTypes?: DecoratedClass[];
  readonly referenceResolvers?: ReferenceResolvers;
}

/** The subgraph's SDL with its federation directives, as composition reads it. */
export interface FederatedSchema {
  readonly schema: GraphQLSchema;
  readonly sdl: string;
}

/**
 * Builds a Federation 2 subgraph schema from type-graphql classes: type-graphql's printer drops
 * `@key`, so the SDL is printed with directives, the federation `@link` is prefixed, and
 * @apollo/subgraph builds the executable schema with type-graphql's resolvers plus
 * `__resolveReference` per entity.
 */
export async function buildFederatedSchema(options: FederatedSchemaOptions): Promise<FederatedSchema> {
  const built = await buildSchema({
    resolvers: options.resolvers,
    orphanedTypes: options.orphanedTypes,
    scalarsMap,
    authChecker,
    pubSub: NO_TOPICS,
    validate: false,
    skipCheck: true,
  });
  const sdl = `${FEDERATION_LINK}\n\n${printSchemaWithDirectives(built)}`;
  const resolvers = createResolversMap(built) as GraphQLResolverMap<unknown>;
  for (const [typeName, resolveReference] of Object.entries(options.referenceResolvers ?? {})) {
    const existing = (resolvers[typeName] ?? {}) as Record<string, unknown>;
    resolvers[typeName] = { ...existing, __resolveReference: resolveReference } as GraphQLResolverMap<unknown>[string];
  }
  const schema = buildSubgraphSchema([{ typeDefs: parse(sdl), resolvers }]);
  return { schema, sdl };
}
