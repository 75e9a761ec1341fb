import type http from 'node:http';
import type { GraphQLDataSource } from '@apollo/gateway';
import { GraphQLError, specifiedRules, validate, type ExecutionArgs, type GraphQLFormattedError } from 'graphql';
import { CloseCode } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { roleAtLeast, type Principal, type TokenVerifier } from '../../platform/auth.js';
import type { Config } from '../../platform/config.js';
import { appError, ErrorCode, hideSuggestions } from '../../platform/errors.js';
import { serveGraphqlWs } from '../../platform/graphql-ws.js';
import { logger } from '../../platform/logger.js';
import { REQUEST_ID_HEADER, requestFrom, TRACEPARENT_HEADER } from '../../platform/request-context.js';
import { runTraced } from '../../platform/tracing.js';
import { SpanKind } from '@opentelemetry/api';
import { checkQueryCost, parseLimited, queryLimitRules, queryLimitsOf } from '../../platform/query-limits.js';
import { websocketOriginAllowed } from '../cors.js';
import type { RateLimits } from '../rate-limits.js';
import { refusalsOf } from './document.js';
import { SubscriptionExecutor, type SubscriptionContext } from './executor.js';
import { SubscriptionRefused, tcpOf } from './subscriber.js';

/** Close codes the gateway's websocket uses besides graphql-ws's own. */
export const WS_CLOSE = {
  /** The token expired while connected (or was refused at connection_init: graphql-ws's 4403). */
  FORBIDDEN: CloseCode.Forbidden,
  /** Too many open connections: try again later. */
  TRY_AGAIN_LATER: 1013,
  /**
   * The client reads more than a keep-alive period (GATEWAY_WS_PING_MS) behind the events sent to
   * it: the close comes after everything already sent; reconnect and resume with `after`.
   */
  TOO_SLOW: 4420,
} as const;

export interface SubscriptionServerOptions {
  readonly httpServer: http.Server;
  readonly config: Config;
  readonly verify: TokenVerifier;
  readonly supergraphSdl: string;
  readonly subgraphUrls: Readonly<Record<string, string>>;
  readonly dataSources: Readonly<Record<string, GraphQLDataSource>>;
  /** Failed authentications per source address, shared with the HTTP endpoint. */
  readonly rateLimits: Pick<RateLimits, 'authBlockedFor' | 'noteAuthFailure'>;
}

interface ConnectionState {
  principal?: Principal;
  authorization?: string;
  subscriptions: number;
  expiry?: NodeJS.Timeout;
}

/** Counts per key (source address, token subject) that go back to zero and are forgotten. */
class Counts {
  private readonly counts = new Map<string, number>();

  of(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.counts.set(key, this.of(key) + 1);
  }

  remove(key: string): void {
    const left = this.of(key) - 1;
    if (left > 0) this.counts.set(key, left);
    else this.counts.delete(key);
  }
}

/**
 * graphql-ws (subprotocol graphql-transport-ws) on the gateway's HTTP server at `/graphql`. The
 * token comes in connection_init as `{ authorization: "Bearer <jwt>" }`; analyst or above; it is
 * re-checked at every subscribe and the socket is closed with 4403 when it expires. Limits: a
 * connection past GATEWAY_WS_MAX_CONNECTIONS is closed with 1013; a subscribe past
 * GATEWAY_WS_MAX_SUBSCRIPTIONS on one connection is answered BAD_USER_INPUT (the others go on);
 * a socket without connection_init within GATEWAY_WS_INIT_TIMEOUT_MS is closed with 4408; every
 * GATEWAY_WS_PING_MS a ping is sent, and a peer that has not answered it by the next is dropped
 * (see keepAlive: one that is reading a stream of events too far behind is closed with 4420).
 */
export function startSubscriptionServer(options: SubscriptionServerOptions): {
  executor: SubscriptionExecutor;
  /** Open websockets. */
  sockets(): number;
  close(): Promise<void>;
} {
  const { config, verify } = options;
  const executor = new SubscriptionExecutor({
    supergraphSdl: options.supergraphSdl,
    subgraphUrls: options.subgraphUrls,
    dataSources: options.dataSources,
    queueLimit: config.GATEWAY_SUBSCRIBER_QUEUE_LIMIT,
    flushMs: config.GATEWAY_SUBSCRIPTION_FLUSH_MS,
    upstreamBufferLimit: config.GATEWAY_UPSTREAM_BUFFER_LIMIT,
    sharedSecret: config.GATEWAY_SHARED_SECRET,
  });
  // closeTimeout (ws 8.18+) is not in @types/ws yet.
  const limits = queryLimitsOf(config);
  const rules = [...specifiedRules, ...queryLimitRules(limits)];
  const production = config.NODE_ENV === 'production';
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: '/graphql',
    // A subscribe carries one operation: as over HTTP (whose body is capped at 1 MB), nothing larger is read.
    maxPayload: MAX_MESSAGE_BYTES,
    closeTimeout: closeTimeoutOf(config.GATEWAY_WS_PING_MS),
    // A browser page of another origin (not in CORS_ORIGINS) gets 403 before any message.
    verifyClient: ({ req }: { req: http.IncomingMessage }, done: (ok: boolean, code?: number, message?: string) => void) =>
      websocketOriginAllowed(config, req) ? done(true) : done(false, 403, 'Origin not allowed (CORS_ORIGINS)'),
  } as ConstructorParameters<typeof WebSocketServer>[0]);
  const states = new WeakMap<object, ConnectionState>();
  const requestHeaders = new WeakMap<WebSocket, Record<string, string>>();
  const inRequest = <T>(socket: WebSocket, name: string, attributes: Record<string, string>, fn: () => Promise<T>) =>
    runTraced(name, SpanKind.SERVER, requestHeaders.get(socket) ?? {}, { 'tenantwatch.service': 'gateway', ...attributes }, fn);
  // Sockets whose connection_init has not been accepted yet, by source address; accepted sockets and
  // open subscriptions by token subject. Counted in this process: each gateway holds its own share.
  const pendingByAddress = new Counts();
  const addressOf = new WeakMap<WebSocket, string>();
  const pending = new WeakSet<WebSocket>();
  const connectionsBySubject = new Counts();
  const subscriptionsBySubject = new Counts();
  const accepted = (socket: WebSocket) => {
    if (pending.delete(socket)) pendingByAddress.remove(addressOf.get(socket)!);
  };
  const stateOf = (extra: unknown) => {
    const key = extra as object;
    let state = states.get(key);
    if (!state) states.set(key, (state = { subscriptions: 0 }));
    return state;
  };

  const authenticate = async (payload: Record<string, unknown> | undefined) => {
    const authorization =
      typeof payload?.authorization === 'string'
        ? payload.authorization
        : typeof payload?.Authorization === 'string'
          ? payload.Authorization
          : undefined;
    const principal = await verify(authorization);
    if (!roleAtLeast(principal, 'analyst'))
      throw appError(ErrorCode.FORBIDDEN, `Subscriptions need role analyst or higher; the token has ${principal.role}`);
    return { principal, authorization: authorization! };
  };

  const serverCleanup = serveGraphqlWs<Record<string, unknown>>(
    {
      schema: executorSchema(executor),
      connectionInitWaitTimeout: config.GATEWAY_WS_INIT_TIMEOUT_MS,
      onConnect: (ctx) =>
        inRequest(ctx.extra.socket, 'gateway websocket connect', {}, async () => {
          const socket = ctx.extra.socket;
          try {
            const { principal, authorization } = await authenticate(ctx.connectionParams);
            accepted(socket);
            if (connectionsBySubject.of(principal.subject) >= config.GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT) {
              socket.close(
                WS_CLOSE.TRY_AGAIN_LATER,
                `Too many connections for this token (GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT=${config.GATEWAY_WS_MAX_CONNECTIONS_PER_SUBJECT})`,
              );
              return false;
            }
            connectionsBySubject.add(principal.subject);
            const state = stateOf(ctx.extra);
            socket.once('close', () => {
              connectionsBySubject.remove(principal.subject);
              // Whatever graphql-ws did not complete ends with the socket.
              for (; state.subscriptions > 0; state.subscriptions--) subscriptionsBySubject.remove(principal.subject);
            });
            state.principal = principal;
            state.authorization = authorization;
            if (principal.expiresAt) {
              const ms = principal.expiresAt * 1000 - Date.now();
              state.expiry = setTimeout(
                () => ctx.extra.socket.close(WS_CLOSE.FORBIDDEN, 'Token expired'),
                Math.max(0, Math.min(ms, 2 ** 31 - 1)),
              );
              state.expiry.unref();
            }
            return true;
          } catch (error) {
            logger.info({ reason: (error as Error).message }, 'websocket connection refused');
            const code =
              error instanceof GraphQLError && typeof error.extensions.code === 'string'
                ? error.extensions.code
                : ErrorCode.UNAUTHENTICATED;
            await options.rateLimits.noteAuthFailure(addressOf.get(socket) ?? 'unknown', {
              channel: 'websocket',
              code,
              reason: (error as Error).message,
            });
            return false;
          }
        }),
      onDisconnect: (ctx) => clearTimeout(stateOf(ctx.extra).expiry),
      onClose: (ctx) => clearTimeout(stateOf(ctx.extra).expiry),
      onSubscribe: (ctx, id, payload) =>
        inRequest(
          ctx.extra.socket,
          `gateway subscribe${payload.operationName ? ` ${payload.operationName}` : ''}`,
          {
            'graphql.operation.type': 'subscription',
            ...(payload.operationName ? { 'graphql.operation.name': payload.operationName } : {}),
          },
          async () => {
            const state = stateOf(ctx.extra);
            try {
              // Re-checked per subscribe: an expired token subscribes no more.
              const { principal } = await authenticate({ authorization: state.authorization });
              state.principal = principal;
            } catch (error) {
              return [error instanceof GraphQLError ? error : appError(ErrorCode.UNAUTHENTICATED, (error as Error).message)];
            }
            const subject = state.principal!.subject;
            if (subscriptionsBySubject.of(subject) >= config.GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT) {
              return [
                appError(
                  ErrorCode.RATE_LIMITED,
                  `At most ${config.GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT} subscriptions per token (GATEWAY_WS_MAX_SUBSCRIPTIONS_PER_SUBJECT); complete one first`,
                ),
              ];
            }
            if (state.subscriptions >= config.GATEWAY_WS_MAX_SUBSCRIPTIONS) {
              return [
                appError(
                  ErrorCode.BAD_USER_INPUT,
                  `At most ${config.GATEWAY_WS_MAX_SUBSCRIPTIONS} subscriptions per connection (GATEWAY_WS_MAX_SUBSCRIPTIONS)`,
                ),
              ];
            }
            // The query limits as over HTTP: tokens while parsing, depth, aliases and directives, then the cost.
            const schema = executor.schema;
            let document;
            try {
              document = parseLimited(payload.query, limits);
            } catch (error) {
              return [error as GraphQLError];
            }
            const errors = validate(schema, document, rules);
            if (errors.length > 0) return production ? errors.map(withoutSuggestions) : errors;
            try {
              checkQueryCost(limits, schema, document, payload.variables ?? undefined, payload.operationName ?? undefined);
            } catch (error) {
              return [error as GraphQLError];
            }
            const operation = document.definitions.find(
              (d) => d.kind === 'OperationDefinition' && (!payload.operationName || d.name?.value === payload.operationName),
            );
            if (!operation || operation.kind !== 'OperationDefinition' || operation.operation !== 'subscription') {
              return [
                appError(ErrorCode.BAD_USER_INPUT, 'Only subscriptions go over the websocket; send queries and mutations over HTTP POST'),
              ];
            }
            // Refused here, with graphql-ws's `error` message that ends the subscription, before any upstream is opened.
            const refused = refusalsOf(schema, document, payload.operationName, payload.variables ?? {});
            if (refused.length > 0) return production ? refused.map(withoutSuggestions) : refused;
            state.subscriptions += 1;
            subscriptionsBySubject.add(subject);
            return {
              schema,
              document,
              variableValues: payload.variables ?? {},
              operationName: payload.operationName ?? undefined,
              contextValue: {
                principal: state.principal!,
                authorization: state.authorization!,
                delivery: { socket: ctx.extra.socket, id },
              } satisfies SubscriptionContext,
            } satisfies ExecutionArgs;
          },
        ),
      onComplete: (ctx) => {
        const state = stateOf(ctx.extra);
        if (state.subscriptions === 0) return;
        state.subscriptions -= 1;
        subscriptionsBySubject.remove(state.principal!.subject);
      },
      // The executor's events carry their errors already formatted (plain objects, as the subgraphs
      // sent them); left to itself graphql-ws would call toJSON() on each and send its TypeError instead.
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? {
              ...result,
              errors: result.errors.map((error) => (error instanceof GraphQLError ? error.toJSON() : (error as GraphQLFormattedError))),
            }
          : undefined,
      // A subscription whose upstream was refused ends with the subgraph's errors as they were sent (see
      // Subscriber.fail); graphql-ws wraps the one error its iterator threw, whichever it was.
      onError: (_ctx, _id, _payload, errors) =>
        errors.flatMap((error) => (error.originalError instanceof SubscriptionRefused ? error.originalError.errors : [error.toJSON()])),
      subscribe: (args) => executor.subscribe(args),
      execute: () => ({ errors: [appError(ErrorCode.BAD_USER_INPUT, 'Only subscriptions go over the websocket')] }),
    },
    wss,
    // The keep-alive is ours (below): graphql-ws's would drop a client that is only behind, and everything in flight to it.
    0,
  );

  wss.on('connection', (socket, request) => {
    // One request id for the connection (the client's X-Request-Id, else a new one) and its traceparent:
    // the connection's and each subscribe's log lines and spans carry them.
    requestHeaders.set(socket, {
      [REQUEST_ID_HEADER]: requestFrom(request.headers).requestId,
      ...(typeof request.headers.traceparent === 'string' ? { [TRACEPARENT_HEADER]: request.headers.traceparent } : {}),
    });
    if (wss.clients.size > config.GATEWAY_WS_MAX_CONNECTIONS) {
      socket.close(WS_CLOSE.TRY_AGAIN_LATER, 'Too many connections (GATEWAY_WS_MAX_CONNECTIONS)');
      return;
    }
    const address = request.socket.remoteAddress ?? 'unknown';
    if (pendingByAddress.of(address) >= config.GATEWAY_WS_MAX_PENDING_PER_ADDRESS) {
      socket.close(
        WS_CLOSE.TRY_AGAIN_LATER,
        'Too many connections waiting for connection_init from this address (GATEWAY_WS_MAX_PENDING_PER_ADDRESS)',
      );
      return;
    }
    addressOf.set(socket, address);
    pending.add(socket);
    pendingByAddress.add(address);
    socket.once('close', () => accepted(socket));
    void options.rateLimits.authBlockedFor(address).then(
      (seconds) => {
        if (seconds > 0 && socket.readyState === socket.OPEN) {
          socket.close(WS_CLOSE.TRY_AGAIN_LATER, `Too many failed authentications from this address; try again in ${seconds} s`);
        }
      },
      (error: unknown) => logger.warn({ err: error }, 'could not read the failed authentications of an address'),
    );
    keepAlive(socket, config.GATEWAY_WS_PING_MS, () => executor.noteTooSlowConnection());
  });

  return {
    executor,
    sockets: () => wss.clients.size,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await serverCleanup.dispose();
      await executor.close();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

/**
 * Pings the client every `pingMs`; a ping still unanswered at the next tick is judged by what the
 * connection shows. If data waits to be taken by the kernel, or data was written after the ping,
 * the client is alive but reading more than `pingMs` behind the stream (the ping waits behind that
 * data in the connection): it is closed with 4420, a close frame that comes after everything
 * already sent, so the client reads what it was sent (for as long as the server's close timeout,
 * `closeTimeoutOf`), then reconnects and resumes with `after`. A quiet connection (nothing waiting,
 * nothing written) gets one more period, since everything it was sent may be in the kernel's
 * buffers ahead of the ping; still unanswered then, the peer is gone and the socket is terminated.
 */
function keepAlive(socket: WebSocket, pingMs: number, onTooSlow: () => void): void {
  const tcp = tcpOf(socket);
  let missed = 0;
  let unanswered = false;
  let writtenAtPing = 0;
  const answered = () => {
    unanswered = false;
    missed = 0;
  };
  socket.on('pong', answered);
  const timer = setInterval(() => {
    if (socket.readyState !== socket.OPEN) return;
    if (unanswered) {
      missed += 1;
      const behind = (tcp?.writableLength ?? 0) > 0 || (tcp?.bytesWritten ?? 0) > writtenAtPing;
      if (behind) {
        clearInterval(timer);
        onTooSlow();
        socket.close(WS_CLOSE.TOO_SLOW, 'Reading too far behind (GATEWAY_WS_PING_MS); resume with after');
      } else if (missed >= 2) {
        clearInterval(timer);
        socket.terminate();
      }
      return;
    }
    unanswered = true;
    socket.ping();
    writtenAtPing = tcp?.bytesWritten ?? 0;
  }, pingMs);
  socket.once('close', () => {
    clearInterval(timer);
    socket.off('pong', answered);
  });
}

/** The largest message a client may send. */
const MAX_MESSAGE_BYTES = 1024 * 1024;

/** A validation error without the schema's "Did you mean ...?" suggestions (production). */
function withoutSuggestions(error: GraphQLError): GraphQLError {
  const message = hideSuggestions({ message: error.message }).message;
  return message === error.message ? error : new GraphQLError(message, { nodes: error.nodes, extensions: error.extensions });
}

/** How long a socket closed by the server may take to answer the close (then it is destroyed): long enough to read a keep-alive period's backlog. */
const closeTimeoutOf = (pingMs: number) => Math.max(30_000, 4 * pingMs);

function executorSchema(executor: SubscriptionExecutor) {
  return executor.schema;
}
