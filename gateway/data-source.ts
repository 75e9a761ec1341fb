import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
// Not re-exported by the package index; the enum's values are part of its public contract.
import { GraphQLDataSourceRequestKind } from '@apollo/gateway/dist/datasources/types.js';
import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { FetcherResponse } from '@apollo/utils.fetcher';
import { GraphQLError } from 'graphql';
import { GATEWAY_SECRET_HEADER, GATEWAY_SECRET_PARAM } from '../platform/auth.js';
import { CLIENT_ADDRESS_HEADER } from '../platform/audit/client-address.js';
import { ErrorCode } from '../platform/errors.js';
import type { GatewayContext } from './context.js';
import { tracingHeaders } from '../platform/tracing.js';
import { subgraphFetcher, type SubgraphFetcher } from './subgraph-fetcher.js';

/** How many subgraph requests were sent and how many were answered by one already in flight. */
export interface DedupStats {
  sent: number;
  shared: number;
}

/**
 * The `connection_init` payload of the gateway's graphql-ws upstream to a subgraph: the caller's
 * Authorization, and GATEWAY_SHARED_SECRET when configured (the subgraph refuses the socket without it).
 */
export function upstreamConnectionParams(authorization: string, sharedSecret: string | undefined): Record<string, string> {
  return sharedSecret ? { authorization, [GATEWAY_SECRET_PARAM]: sharedSecret } : { authorization };
}

/**
 * A subgraph data source that forwards the caller's Authorization header (and, when configured,
 * sends GATEWAY_SHARED_SECRET, without which the subgraphs refuse every request) and sends identical
 * queries in flight at the same moment once, sharing the answer. The key is everything that can
 * change the answer: the subgraph's URL, the query text, the variables and the forwarded
 * Authorization. Mutations (and anything run for a client mutation) are never shared. Each caller
 * gets its own copy of the answer: the query planner merges entity results into the objects it is
 * given. The copies are made when the answer arrives, before any caller sees it, and only for the
 * callers that joined: the first caller takes the answer itself.
 */
export class SubgraphDataSource extends RemoteGraphQLDataSource<GatewayContext> {
  private readonly inFlight = new Map<string, InFlight>();
  /** The subgraph's name in the supergraph, added to errors as `serviceName`. */
  readonly name: string;
  private readonly sharedSecret: string | undefined;
  private readonly connections: SubgraphFetcher;

  constructor(options: { readonly url: string; readonly name: string; readonly sharedSecret?: string }) {
    const connections = subgraphFetcher();
    super({ url: options.url, fetcher: connections.fetch });
    this.connections = connections;
    this.name = options.name;
    this.sharedSecret = options.sharedSecret;
  }

  /** Closes the connections to the subgraph; a request after this fails. */
  close(): Promise<void> {
    return this.connections.close();
  }
  readonly stats: DedupStats = { sent: 0, shared: 0 };

  override willSendRequest(options: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    const authorization = options.context?.authorization;
    if (authorization) options.request.http?.headers.set('authorization', authorization);
    if (this.sharedSecret) options.request.http?.headers.set(GATEWAY_SECRET_HEADER, this.sharedSecret);
    // The client's request id and trace, this gateway's span as the parent of the subgraph's.
    for (const [name, value] of Object.entries(tracingHeaders())) options.request.http?.headers.set(name, value);
    // For the subgraphs' audit log; they believe it only with the shared secret.
    const clientAddress = options.context?.clientAddress;
    if (clientAddress) options.request.http?.headers.set(CLIENT_ADDRESS_HEADER, clientAddress);
  }

  /**
   * A subgraph answering 4xx with GraphQL errors (a refused token, a value its scalars reject)
   * reaches the client with the subgraph's own message and code instead of "400: Bad Request".
   */
  override async errorFromResponse(response: FetcherResponse): Promise<GraphQLError> {
    const body = await this.parseBody(response).catch(() => undefined);
    const first = typeof body === 'object' && body !== null && 'errors' in body && Array.isArray(body.errors) ? body.errors[0] : undefined;
    if (first && typeof first.message === 'string') {
      return new GraphQLError(first.message, { extensions: { ...(first.extensions ?? {}), serviceName: this.name } });
    }
    const code = response.status === 401 ? 'UNAUTHENTICATED' : response.status === 403 ? 'FORBIDDEN' : 'INTERNAL_SERVER_ERROR';
    return new GraphQLError(`${response.status}: ${response.statusText}`, { extensions: { code, serviceName: this.name } });
  }

  /** Sends one request; a subgraph that cannot be reached answers SUBGRAPH_UNAVAILABLE naming it. */
  private async send(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await super.process(options);
    } catch (error) {
      if (error instanceof GraphQLError && typeof error.extensions.code === 'string') throw error;
      throw new GraphQLError(`Subgraph "${this.name}" is unavailable: ${(error as Error).message}`, {
        extensions: { code: ErrorCode.SUBGRAPH_UNAVAILABLE, serviceName: this.name },
      });
    }
  }

  override async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    if (!isSharable(options)) {
      this.stats.sent += 1;
      return this.send(options);
    }
    const key = JSON.stringify([this.url, options.request.query, options.request.variables ?? null, options.context.authorization ?? '']);
    let entry = this.inFlight.get(key);
    if (entry) {
      this.stats.shared += 1;
    } else {
      this.stats.sent += 1;
      const started: InFlight = { callers: 0, answers: Promise.resolve([]) };
      started.answers = this.send(options).then(
        (response) => {
          // Nobody joins from here on; the callers' copies are taken before any of them runs on.
          this.inFlight.delete(key);
          const answers = [response];
          for (let i = 1; i < started.callers; i++) answers.push(copyOf(response));
          return answers;
        },
        (error: unknown) => {
          this.inFlight.delete(key);
          throw error;
        },
      );
      this.inFlight.set(key, started);
      entry = started;
    }
    const caller = entry.callers++;
    return (await entry.answers)[caller]!;
  }
}

/** A request in flight: how many callers wait for it, and their answers, one each, in the order they came. */
interface InFlight {
  callers: number;
  answers: Promise<GatewayGraphQLResponse[]>;
}

function isSharable(
  options: GraphQLDataSourceProcessOptions<GatewayContext>,
): options is GraphQLDataSourceProcessOptions<GatewayContext> & {
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
