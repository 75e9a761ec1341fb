import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
// Not re-exported by the package index; the enum's values are part of its public contract.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GatewayContext } from './context.js';

/** How many subgraph requests were sent and how many were answered by one already in flight. */
export interface DedupStats {
  sent: number;
  shared: number;
}

/**
 * A subgraph data source that forwards the caller's Authorization header and sends identical
 * queries in flight at the same moment once, sharing the answer. The key is everything that can
 * change the answer: the subgraph's URL, the query text, the variables and the forwarded
 * Authorization. Mutations (and anything run for a client mutation) are never shared. Each caller
 * gets its own copy of the answer: the query planner merges entity results into the objects it is
 * given.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly inFlight = new Map<string, Promise<GatewayGraphQLResponse>>();
  readonly stats: DedupStats = { sent: 0, shared: 0 };

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const authorization = options.context?.authorization;
    if (authorization) options.request.http?.headers.set('authorization', authorization);
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    if (!isSharable(options)) {
      this.stats.sent += 1;
      return super.process(options);
    }
    const key = JSON.stringify([this.url, options.request.query, options.request.variables ?? null, options.context.authorization ?? '']);
    let pending = this.inFlight.get(key);
    if (pending) {
      this.stats.shared += 1;
    } else {
      this.stats.sent += 1;
      pending = super.process(options).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return copyOf(await pending);
  }
}

function isSharable(options: GraphQLDataSourceProcessOptions<GatewayContext>): options is GraphQLDataSourceProcessOptions<GatewayContext> & {
  kind: GraphQLDataSourceRequestKind.INCOMING_OPERATION;
} {
  if (options.kind !== GraphQLDataSourceRequestKind.INCOMING_OPERATION) return false;
  if (options.incomingRequestContext.operation?.operation !== 'query') return false;
  const text = options.request.query?.trimStart() ?? '';
  return text.startsWith('{') || text.startsWith('query');
}

function copyOf(response: GatewayGraphQLResponse): GatewayGraphQLResponse {
  return {
    ...response,
    data: response.data ? structuredClone(response.data) : response.data,
    errors: response.errors ? structuredClone(response.errors) : response.errors,
    extensions: response.extensions ? structuredClone(response.extensions) : response.extensions,
  };
}
