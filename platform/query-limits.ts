import type { ApolloServerPlugin } from '@apollo/server';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import {
  GraphQLError,
  Kind,
  parse,
  type ASTVisitor,
  type DocumentNode,
  type FragmentDefinitionNode,
  type GraphQLSchema,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { getComplexity, type ComplexityEstimator } from 'graphql-query-complexity';
import type { Config } from './config.js';
import { ErrorCode, TOKEN_LIMIT } from './errors.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './pagination.js';

/**
 * What one GraphQL document may ask, checked before anything runs: at the gateway (HTTP and
 * websocket) and at each subgraph (for whatever reaches it directly). Each limit is a config key;
 * a document over one is refused with QUERY_TOO_COMPLEX and a message naming the limit and its value.
 */
export interface QueryLimits {
  /** Fields on the deepest path; a connection's `edges` and `node` are not levels of their own. */
  readonly maxDepth: number;
  /** The estimated cost (see {@link queryCost}). */
  readonly maxCost: number;
  readonly maxAliases: number;
  readonly maxDirectives: number;
  /** Lexical tokens in the document, counted while parsing: a huge document is refused before it is built. */
  readonly maxTokens: number;
}

export function queryLimitsOf(config: Config): QueryLimits {
  return {
    maxDepth: config.QUERY_MAX_DEPTH,
    maxCost: config.QUERY_MAX_COST,
    maxAliases: config.QUERY_MAX_ALIASES,
    maxDirectives: config.QUERY_MAX_DIRECTIVES,
    maxTokens: config.QUERY_MAX_TOKENS,
  };
}

/** A document over one of the limits, with the limit's config key named. */
export function tooComplex(message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, ...extra, http: { status: 400 } } });
}

/** Fields that are a connection's plumbing rather than a level of the graph. */
const CONNECTION_PLUMBING = new Set(['edges', 'node']);

/**
 * A validation rule that refuses operations nested deeper than `maxDepth` fields (fragments
 * followed; introspection fields, `edges` and `node` not counted), so that one request cannot fan
 * out across subgraphs without bound while a legitimate path through several connections passes.
 */
export function depthLimit(maxDepth: number): ValidationRule {
  return (context: ValidationContext): ASTVisitor => {
    const fragments = new Map<string, FragmentDefinitionNode>();
    for (const definition of context.getDocument().definitions) {
      if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments.set(definition.name.value, definition);
    }
    // Each fragment's depth is computed once: re-walking it at every spread grows exponentially
    // with nested fragments spread twice (a 1 KB document took 11 s).
    const fragmentDepth = new Map<string, number>();
    const depthOf = (set: SelectionSetNode, seen: Set<string>): number => {
      let deepest = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD) {
          const name = selection.name.value;
          if (name.startsWith('__')) continue;
          const level = CONNECTION_PLUMBING.has(name) && selection.selectionSet ? 0 : 1;
          deepest = Math.max(deepest, level + (selection.selectionSet ? depthOf(selection.selectionSet, seen) : 0));
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          deepest = Math.max(deepest, depthOf(selection.selectionSet, seen));
        } else {
          const name = selection.name.value;
          const fragment = fragments.get(name);
          if (!fragment || seen.has(name)) continue;
          let depth = fragmentDepth.get(name);
          if (depth === undefined) {
            depth = depthOf(fragment.selectionSet, new Set([...seen, name]));
            fragmentDepth.set(name, depth);
          }
          deepest = Math.max(deepest, depth);
        }
      }
      return deepest;
    };
    return {
      OperationDefinition(node) {
        const depth = depthOf(node.selectionSet, new Set());
        if (depth > maxDepth) {
          context.reportError(
            new GraphQLError(`Operation is ${depth} fields deep; the limit is ${maxDepth} (QUERY_MAX_DEPTH)`, {
              nodes: [node],
              extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit: 'QUERY_MAX_DEPTH', max: maxDepth, actual: depth },
            }),
          );
        }
      },
    };
  };
}

/** The rules that need no variables: depth, aliases and directives. Run them with graphql-js's own. */
export function queryLimitRules(limits: QueryLimits): ValidationRule[] {
  const report = (limit: string, max: number, what: string) => (context: ValidationContext | null, error: GraphQLError) => {
    const found = /found (\d+)/.exec(error.message)?.[1];
    context?.reportError(
      new GraphQLError(`The operation has ${found ?? 'too many'} ${what}; the limit is ${max} (${limit})`, {
        extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit, max, ...(found ? { actual: Number(found) } : {}) },
      }),
    );
  };
  return [
    depthLimit(limits.maxDepth),
    maxAliasesRule({
      n: limits.maxAliases,
      // Aliases of __typename count too: they cost little each, but nothing bounds how many.
      allowList: [],
      propagateOnRejection: false,
      onReject: [report('QUERY_MAX_ALIASES', limits.maxAliases, 'aliases')],
    }),
    maxDirectivesRule({
      n: limits.maxDirectives,
      propagateOnRejection: false,
      onReject: [report('QUERY_MAX_DIRECTIVES', limits.maxDirectives, 'directives')],
    }),
  ];
}

/**
 * Each field costs 1 plus what it selects; a field that takes `first` (a connection) selects its
 * items `first` times (DEFAULT_PAGE_SIZE when omitted, MAX_PAGE_SIZE at most). So `activities(first: 500) { edges { node
 * { id action } } }` costs 1 + 500 × 4 = 2,001, and a thousand aliases of it two million.
 */
const estimator: ComplexityEstimator = ({ field, args, childComplexity }) => {
  if (!field.args.some((arg) => arg.name === 'first')) return 1 + childComplexity;
  // A first over the largest page is refused when the field runs: it can cost no more than a largest page.
  const first =
    typeof args.first === 'number' && Number.isFinite(args.first) ? Math.min(MAX_PAGE_SIZE, Math.max(0, args.first)) : DEFAULT_PAGE_SIZE;
  return 1 + first * childComplexity;
};

/**
 * The document's estimated cost for `operationName` with `variables` (see the estimator above), or
 * undefined when the variables do not fit the operation (execution refuses those anyway).
 */
export function queryCost(
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName?: string,
): number | undefined {
  try {
    return getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: [estimator] });
  } catch (error) {
    if (error instanceof GraphQLError && /Query exceeds the maximum allowed number of nodes/.test(error.message)) {
      return Number.POSITIVE_INFINITY;
    }
    return undefined;
  }
}

/** Throws QUERY_TOO_COMPLEX when the document costs more than the limit. */
export function checkQueryCost(
  limits: QueryLimits,
  schema: GraphQLSchema,
  document: DocumentNode,
  variables: Record<string, unknown> | undefined,
  operationName?: string,
): void {
  const cost = queryCost(schema, document, variables, operationName);
  if (cost !== undefined && cost > limits.maxCost) {
    const shown = Number.isFinite(cost) ? cost.toLocaleString('en-US') : 'too many nodes to count';
    throw tooComplex(
      `The operation's estimated cost is ${shown}; the limit is ${limits.maxCost.toLocaleString('en-US')} (QUERY_MAX_COST): ask for fewer items (first) or fewer fields`,
      { limit: 'QUERY_MAX_COST', max: limits.maxCost, ...(Number.isFinite(cost) ? { actual: cost } : {}) },
    );
  }
}

/** Parses with the token limit: a document over it is refused while parsing, before its tree is built. */
export function parseLimited(source: string, limits: QueryLimits): DocumentNode {
  try {
    return parse(source, { maxTokens: limits.maxTokens });
  } catch (error) {
    throw tokenLimitError(error, limits) ?? error;
  }
}

/** graphql-js's token-limit parse error in Tenantwatch's words, or undefined for any other error. */
export function tokenLimitError(error: unknown, limits: Pick<QueryLimits, 'maxTokens'>): GraphQLError | undefined {
  if (!(error instanceof GraphQLError) || !TOKEN_LIMIT.test(error.message)) return undefined;
  return tooComplex(`The document has more than ${limits.maxTokens} tokens; the limit is ${limits.maxTokens} (QUERY_MAX_TOKENS)`, {
    limit: 'QUERY_MAX_TOKENS',
    max: limits.maxTokens,
  });
}

/**
 * Apollo Server plugin: the cost check, once the operation and its variables are known and before
 * anything executes (at the gateway, before any subgraph is called).
 */
export function queryCostPlugin(limits: QueryLimits): ApolloServerPlugin {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ request, document, schema, operationName }) => {
        checkQueryCost(limits, schema, document, request.variables, operationName ?? undefined);
      },
    }),
  };
}
