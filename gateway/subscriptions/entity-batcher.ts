import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
// Not re-exported by the package index; the enum's values are part of its public contract.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GraphQLFormattedError } from 'graphql';
import type { GatewayContext } from '../context.js';

type Options = GraphQLDataSourceProcessOptions<GatewayContext>;

/** One caller's share of a batched `_entities` request. */
interface Part {
  readonly representations: readonly unknown[];
  readonly offset: number;
  resolve(response: GatewayGraphQLResponse): void;
  reject(error: unknown): void;
}

interface Batch {
  /** The first caller's options: the request that is sent, with every part's representations. */
  readonly options: Options;
  readonly variables: Record<string, unknown>;
  readonly parts: Part[];
  size: number;
}

/**
 * Sends the entity fetches of events completed at the same time as one request per subgraph. Every
 * event of a subscription is completed by the same `_entities` query with its own representations:
 * the requests one event-loop turn issues with the same query, other variables and Authorization go
 * out as one, with the representations concatenated, and each caller gets its slice of `_entities`
 * and the errors at its indexes (re-indexed); errors without an entity index go to every caller.
 * When the gateway keeps up, events come one at a time and nothing changes; when it falls behind,
 * the backlog is completed in a few requests instead of three per event. Anything else (no
 * `representations`) is passed through.
 */
export class EntityBatcher implements GraphQLDataSource<GatewayContext> {
  private readonly pending = new Map<string, Batch>();

  constructor(private readonly source: GraphQLDataSource<GatewayContext>) {}

  process(options: Options): Promise<GatewayGraphQLResponse> {
    const { representations, ...variables } = (options.request.variables ?? {}) as Record<string, unknown>;
    if (!Array.isArray(representations) || options.kind !== GraphQLDataSourceRequestKind.INCOMING_OPERATION)
      return this.source.process(options);
    const key = JSON.stringify([options.request.query, options.request.operationName ?? null, variables, options.context.authorization]);
    let batch = this.pending.get(key);
    if (!batch) {
      const created: Batch = { options, variables, parts: [], size: 0 };
      batch = created;
      this.pending.set(key, created);
      // setImmediate: after every promise continuation of this turn has issued its fetch.
      setImmediate(() => {
        if (this.pending.get(key) === created) this.pending.delete(key);
        void this.send(created);
      });
    }
    const target = batch;
    return new Promise((resolve, reject) => {
      target.parts.push({ representations, offset: target.size, resolve, reject });
      target.size += representations.length;
    });
  }

  private async send(batch: Batch): Promise<void> {
    const { options, variables, parts } = batch;
    if (parts.length === 1) {
      const [only] = parts as [Part];
      this.source.process(options).then(only.resolve, only.reject);
      return;
    }
    let response: GatewayGraphQLResponse;
    try {
      response = await this.source.process({
        ...options,
        request: { ...options.request, variables: { ...variables, representations: parts.flatMap((p) => p.representations) } },
      });
    } catch (error) {
      for (const part of parts) part.reject(error);
      return;
    }
    const entities: unknown = response.data?._entities;
    for (const part of parts) {
      const end = part.offset + part.representations.length;
      const errors = response.errors?.flatMap((error) => errorFor(error, part.offset, end));
      part.resolve({
        ...response,
        data: Array.isArray(entities) ? { ...response.data, _entities: entities.slice(part.offset, end) } : response.data,
        ...(errors?.length ? { errors } : { errors: undefined }),
      });
    }
  }
}

/** The error as the caller owning entities [start, end) sees it: re-indexed, or none when it is another caller's. */
function errorFor(error: GraphQLFormattedError, start: number, end: number): GraphQLFormattedError[] {
  const [field, index, ...rest] = error.path ?? [];
  if (field !== '_entities' || typeof index !== 'number') return [error];
  if (index < start || index >= end) return [];
  return [{ ...error, path: [field, index - start, ...rest] }];
}
