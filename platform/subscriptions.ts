import type http from 'node:http';
import {
  createSourceEventStream,
  execute,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  Kind,
  OperationTypeNode,
  specifiedRules,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLFormattedError,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { serveGraphqlWs, type Extra } from './graphql-ws.js';
import { WebSocket, WebSocketServer } from 'ws';
import { GATEWAY_ONLY, GATEWAY_SECRET_PARAM, isGatewaySecret, type Principal, type TokenVerifier } from './auth.js';
import type { SubgraphContext } from './context.js';
import { appError, ErrorCode, formatError, hideSuggestions } from './errors.js';
import { checkQueryCost, parseLimited, queryLimitRules, type QueryLimits } from './query-limits.js';

/** How long stop() lets clients answer the close handshake before dropping their sockets. */
const CLOSE_GRACE_MS = 1_000;
/** The largest message a client may send (a subscribe carries one operation). */
const MAX_MESSAGE_BYTES = 1024 * 1024;
/** setTimeout's ceiling; tokens living longer are not timed out by this process. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface SubscriptionServerOptions<C extends SubgraphContext> {
  readonly httpServer: http.Server;
  /** The same path as the HTTP endpoint: `/graphql`. */
  readonly path: string;
  readonly schema: GraphQLSchema;
  readonly verify: TokenVerifier;
  /** When set, a connection_init without it as `gatewaySecret` is closed with 4401 before its token is looked at. */
  readonly gatewaySecret?: string;
  /** Validation rules beside graphql-js's own (the same as the subgraph's HTTP endpoint). */
  readonly validationRules?: readonly ValidationRule[];
  /** Builds a fresh context: one for the subscribe call, then one per event, so that no cache outlives an event. */
  readonly context: (principal: Principal, authorization: string) => C;
  /** The query limits a subscribe's document must hold to (as over HTTP). */
  readonly limits: QueryLimits;
  /** Production: error messages leave out the schema's "Did you mean ...?" suggestions. */
  readonly hideSchemaDetails: boolean;
}

/** graphql-ws on a subgraph's HTTP server: how many sockets are open, and close(). */
export interface SubscriptionServer {
  sockets(): number;
  /** Closes every socket (1001 Going away; dropped after a short grace) and stops accepting new ones. */
  close(): Promise<void>;
}

interface Caller {
  readonly principal: Principal;
  readonly authorization: string;
  readonly expiry: NodeJS.Timeout;
}

/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
const reason = (text: string) => (text.length > 120 ? `${text.slice(0, 117)}...` : text);

/**
 * Serves graphql-ws (subprotocol `graphql-transport-ws`) on the subgraph's HTTP server and path.
 * The token comes in the `connection_init` payload as `{ authorization: "Bearer <jwt>" }` (the
 * gateway forwards its client's), with `gatewaySecret` when the subgraph requires the gateway's
 * shared secret. Close codes: 4401 when either is missing or invalid, 4403 when the token
 * expires while connected, 1001 when the subgraph stops; graphql-ws's own 4400 (bad message),
 * 4406 (subprotocol) and 4408 (no connection_init within 3 s). Roles are checked per field by the
 * schema (`@Authorized`), answering FORBIDDEN. Errors are formatted like HTTP answers (formatError).
 * A subscription refused before its first event (a bad document or variable, an argument its
 * resolver refuses, a role too low) ends with one `error` message, graphql-ws's terminal one.
 */
export function serveSubscriptions<C extends SubgraphContext>(options: SubscriptionServerOptions<C>): SubscriptionServer {
  const wss = new WebSocketServer({ server: options.httpServer, path: options.path, maxPayload: MAX_MESSAGE_BYTES });
  const rules = [...specifiedRules, ...queryLimitRules(options.limits), ...(options.validationRules ?? [])];
  const { gatewaySecret } = options;
  const format = (error: GraphQLError): GraphQLFormattedError => {
    const formatted = formatError(error.toJSON(), error);
    return options.hideSchemaDetails ? hideSuggestions(formatted) : formatted;
  };
  const callers = new WeakMap<Context<Record<string, unknown>, Extra>, Caller>();
  /** Source streams opened by onSubscribe, until graphql-ws hands their arguments to subscribe. */
  const opened = new WeakMap<ExecutionArgs, AsyncIterable<unknown>>();
  const server = serveGraphqlWs<Record<string, unknown>>(
    {
      schema: options.schema,
      onConnect: async (ctx) => {
        const { socket } = ctx.extra;
        if (gatewaySecret !== undefined && !isGatewaySecret(gatewaySecret, ctx.connectionParams?.[GATEWAY_SECRET_PARAM])) {
          socket.close(CloseCode.Unauthorized, GATEWAY_ONLY);
          return false;
        }
        const authorization = ctx.connectionParams?.authorization;
        if (typeof authorization !== 'string' || authorization === '') {
          socket.close(CloseCode.Unauthorized, 'Unauthorized: send { "authorization": "Bearer <token>" } in connection_init');
          return false;
        }
        let principal: Principal;
        try {
          principal = await options.verify(authorization);
        } catch (error) {
          socket.close(CloseCode.Unauthorized, reason(`Unauthorized: ${(error as Error).message}`));
          return false;
        }
        const expiry = setTimeout(
          () => socket.close(CloseCode.Forbidden, 'Forbidden: token expired'),
          Math.min(MAX_TIMER_MS, Math.max(0, principal.expiresAt * 1000 - Date.now())),
        ).unref();
        callers.set(ctx, { principal, authorization, expiry });
        return true;
      },
      onClose: (ctx) => {
        clearTimeout(callers.get(ctx)?.expiry);
      },
      // The same limits as over HTTP: tokens while parsing, then depth, aliases and directives, then
      // the cost. A subscription's source stream is opened here: a refusal before its first event (a
      // variable that does not fit, an argument the resolver refuses, a role too low) is answered
      // with graphql-ws's `error` message, which ends the operation, where graphql-ws would send a
      // `next` carrying the errors and then `complete`.
      onSubscribe: async (ctx, _id, payload) => {
        try {
          const document = parseLimited(payload.query, options.limits);
          const errors = validate(options.schema, document, rules);
          if (errors.length > 0) return errors;
          checkQueryCost(options.limits, options.schema, document, payload.variables ?? undefined, payload.operationName ?? undefined);
          const refused = variableErrors(options.schema, document, payload.operationName, payload.variables);
          if (refused.length > 0) return refused;
          const caller = callers.get(ctx)!;
          const args: ExecutionArgs = {
            schema: options.schema,
            document,
            variableValues: payload.variables,
            operationName: payload.operationName,
            contextValue: options.context(caller.principal, caller.authorization),
          };
          const operation = getOperationAST(document, payload.operationName)?.operation;
          // Mutations are answered over HTTP only, where every one is recorded in the audit log.
          if (operation === OperationTypeNode.MUTATION)
            return [appError(ErrorCode.BAD_USER_INPUT, 'Mutations are not answered over the websocket: send them with POST /graphql')];
          if (operation !== OperationTypeNode.SUBSCRIPTION) return args;
          const stream = await createSourceEventStream(args);
          if (!(Symbol.asyncIterator in stream)) return stream.errors ?? [new GraphQLError('The subscription was refused')];
          opened.set(args, stream);
          return args;
        } catch (error) {
          if (error instanceof GraphQLError) return [error];
          throw error;
        }
      },
      // graphql-ws calls this with the arguments onSubscribe answered, whose source stream is open.
      subscribe: (args) => {
        const stream = opened.get(args)!;
        opened.delete(args);
        const { principal, authorization } = args.contextValue as C;
        return executePerEvent(stream, args, () => options.context(principal, authorization));
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map(format) } : undefined),
      onError: (_ctx, _id, _payload, errors) => errors.map(format),
    },
    wss,
    // graphql-ws's keep-alive: a ping every 12 s, a peer silent for as long again is dropped.
    12_000,
  );
  return {
    sockets: () => wss.clients.size,
    close: async () => {
      const sockets = [...wss.clients];
      const closed = Promise.all(
        sockets.map((socket) =>
          socket.readyState === WebSocket.CLOSED ? undefined : new Promise((resolve) => socket.once('close', resolve)),
        ),
      );
      for (const socket of sockets) socket.close(1001, 'Going away');
      const grace = setTimeout(() => sockets.forEach((socket) => socket.terminate()), CLOSE_GRACE_MS);
      await closed;
      clearTimeout(grace);
      await server.dispose();
    },
  };
}

/**
 * The operation's variables that do not fit their declared types, as BAD_USER_INPUT naming the
 * variable (graphql-js's own errors carry no code, and would be masked as internal ones). Empty when
 * all fit, or when no operation is found (graphql-ws answers that itself).
 */
export function variableErrors(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): GraphQLError[] {
  const operation = getOperationAST(document, operationName);
  if (!operation) return [];
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables ?? {}, { maxErrors: 10 });
  return (coerced.errors ?? []).map((error) => {
    const node = error.nodes?.[0];
    return appError(
      ErrorCode.BAD_USER_INPUT,
      error.message,
      node?.kind === Kind.VARIABLE_DEFINITION ? { variable: node.variable.name.value } : {},
    );
  });
}

/**
 * graphql-js `subscribe` executes every event with the one context of the subscribe call, so its
 * EntityManager and DataLoaders would cache every event for the subscription's whole life. This
 * runs each event with a fresh one. Written by hand: `return()` must reach the source at once.
 */
function executePerEvent(
  source: AsyncIterable<unknown>,
  args: ExecutionArgs,
  freshContext: () => unknown,
): AsyncIterableIterator<ExecutionResult> {
  const events = source[Symbol.asyncIterator]();
  const done: IteratorReturnResult<undefined> = { done: true, value: undefined };
  return {
    async next() {
      const event = await events.next();
      if (event.done) return done;
      return { done: false, value: await execute({ ...args, rootValue: event.value, contextValue: freshContext() }) };
    },
    async return() {
      await events.return?.();
      return done;
    },
    async throw() {
      await events.return?.();
      return done;
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
