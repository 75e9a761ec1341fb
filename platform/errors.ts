import { GraphQLError, Kind, parse, visit, type ASTNode, type GraphQLFormattedError } from 'graphql';
import { logger } from './logger.js';

/** The one registry of error codes clients can rely on (`extensions.code`). */
export const ErrorCode = {
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  FORBIDDEN: 'FORBIDDEN',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  NOT_FOUND: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PROVIDER_ERROR: 'PROVIDER_ERROR',
  /** The gateway could not reach a subgraph (down, restarting, or timing out). */
  SUBGRAPH_UNAVAILABLE: 'SUBGRAPH_UNAVAILABLE',
  /** A subscription fell too far behind and was ended; subscribe again with `after` = the last cursor received. */
  SUBSCRIBER_TOO_SLOW: 'SUBSCRIBER_TOO_SLOW',
  /** Too many requests, sockets or subscriptions for a token, or failed authentications from an address; `retryAfterSeconds` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** The document is over a query limit (depth, cost, aliases, directives or tokens); `extensions.limit` names its config key. */
  QUERY_TOO_COMPLEX: 'QUERY_TOO_COMPLEX',
  /** The database did not answer in time (DB_STATEMENT_TIMEOUT_MS) or a row stayed locked too long (DB_LOCK_TIMEOUT_MS); nothing was changed by the statement: retry later. */
  DATABASE_TIMEOUT: 'DATABASE_TIMEOUT',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

const HTTP_STATUS: Partial<Record<ErrorCode, number>> = { UNAUTHENTICATED: 401, QUERY_TOO_COMPLEX: 400, RATE_LIMITED: 429 };

/** Builds a client-facing error with a stable code. */
export function appError(code: ErrorCode, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  const status = HTTP_STATUS[code];
  return new GraphQLError(message, {
    extensions: { code, ...extra, ...(status ? { http: { status } } : {}) },
  });
}

/**
 * UNAUTHENTICATED (HTTP 401) with the `WWW-Authenticate` challenge of RFC 6750: `Bearer
 * realm="tenantwatch"` when no credentials came, with `error="invalid_token"` and the reason when
 * a token came and was refused.
 */
export function unauthenticated(message: string, tokenGiven: boolean): GraphQLError {
  const challenge = tokenGiven
    ? `Bearer realm="tenantwatch", error="invalid_token", error_description="${message.replace(/["\\]/g, "'")}"`
    : 'Bearer realm="tenantwatch"';
  return new GraphQLError(message, {
    extensions: { code: ErrorCode.UNAUTHENTICATED, http: { status: 401, headers: new Map([['www-authenticate', challenge]]) } },
  });
}

/** A bad argument: the message starts with the argument's name, e.g. `Argument "first": ...`. */
export function badInput(argument: string, message: string): GraphQLError {
  return appError(ErrorCode.BAD_USER_INPUT, `Argument "${argument}": ${message}`, { argument });
}

const CLIENT_CODES = new Set<string>(Object.values(ErrorCode).filter((c) => c !== 'INTERNAL_SERVER_ERROR'));
const PASSTHROUGH_CODES = new Set([
  ...CLIENT_CODES,
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'BAD_REQUEST',
]);

/** Validation messages that are about an argument's value rather than the document's shape. */
const VALUE_PROBLEM =
  /^(Expected value of type|Value "|Enum "|\w+ cannot represent|Field ".*" is not defined by type|Field ".*" of required type)/;

/**
 * Finds the argument (as `arg` or `arg.field.sub`) whose value holds the error's position,
 * by re-reading the document the error came from. Returns undefined when none does.
 */
function argumentAt(error: GraphQLError): string | undefined {
  const body = error.source?.body;
  const at = error.nodes?.[0]?.loc?.start ?? error.positions?.[0];
  if (body === undefined || at === undefined) return undefined;
  let found: string | undefined;
  const stack: string[] = [];
  const contains = (node: ASTNode) => node.loc !== undefined && node.loc.start <= at && at < node.loc.end;
  try {
    visit(parse(body, { noLocation: false }), {
      Argument: {
        enter(node) {
          stack.push(node.name.value);
          if (contains(node.value)) found = stack.join('.');
        },
        leave() {
          stack.pop();
        },
      },
      ObjectField: {
        enter(node) {
          stack.push(node.name.value);
          if (contains(node.value) && node.value.kind !== Kind.OBJECT) found = stack.join('.');
        },
        leave() {
          stack.pop();
        },
      },
    });
  } catch {
    return undefined;
  }
  return found;
}

/** graphql-js's message when a document has more tokens than the parser's maxTokens. */
export const TOKEN_LIMIT = /Document contains more th(?:an|at) (\d+) tokens/;

/** "Did you mean ...?" suggestions name fields and types of the schema: production hides them. */
const SUGGESTION = / ?Did you mean .+\?/g;

/** The error without the schema's field and type suggestions (production answers). */
export function hideSuggestions(error: GraphQLFormattedError): GraphQLFormattedError {
  const message = error.message.replace(SUGGESTION, '').trim();
  return message === error.message ? error : { ...error, message };
}

/**
 * Apollo Server `formatError`: keeps client codes, turns argument-value validation failures into
 * BAD_USER_INPUT naming the argument, masks anything unexpected as INTERNAL_SERVER_ERROR (logged
 * with its stack here, never sent), and never lets a stack trace reach a client.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const { stacktrace: _stack, ...extensions } = (formatted.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions.code === 'string' ? extensions.code : undefined;
  const tokens = code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT.exec(formatted.message)?.[1] : undefined;
  if (tokens !== undefined) {
    // graphql-js stopped parsing at the token limit (QUERY_MAX_TOKENS, given to the parser as maxTokens).
    return {
      message: `The document has more than ${tokens} tokens; the limit is ${tokens} (QUERY_MAX_TOKENS)`,
      extensions: { ...extensions, code: ErrorCode.QUERY_TOO_COMPLEX, limit: 'QUERY_MAX_TOKENS', max: Number(tokens) },
    };
  }
  const original = (error as { originalError?: { extensions?: Record<string, unknown> } } | undefined)?.originalError;
  const ruleCode = original?.extensions?.code;
  if (code === 'GRAPHQL_VALIDATION_FAILED' && typeof ruleCode === 'string' && CLIENT_CODES.has(ruleCode)) {
    // A validation rule of ours (e.g. the depth limit) chose the code; Apollo Server overwrote it.
    return { ...formatted, extensions: { ...extensions, code: ruleCode } };
  }
  if (code === 'GRAPHQL_VALIDATION_FAILED' && VALUE_PROBLEM.test(formatted.message)) {
    const argument = error instanceof GraphQLError ? argumentAt(error) : undefined;
    return {
      ...formatted,
      message: argument ? `Argument "${argument}": ${formatted.message}` : formatted.message,
      extensions: { ...extensions, code: ErrorCode.BAD_USER_INPUT, ...(argument ? { argument } : {}) },
    };
  }
  if (code !== undefined && (PASSTHROUGH_CODES.has(code) || extensions.serviceName !== undefined)) {
    return { ...formatted, extensions };
  }
  const timeout = databaseTimeoutOf(error);
  if (timeout) {
    logger.warn({ err: error, path: formatted.path }, 'database timeout while serving a request');
    return {
      message:
        timeout === 'statement'
          ? 'The database did not answer in time (DB_STATEMENT_TIMEOUT_MS); nothing was changed by this statement: retry later'
          : 'A row this request needed stayed locked too long (DB_LOCK_TIMEOUT_MS); nothing was changed by this statement: retry later',
      locations: formatted.locations,
      path: formatted.path,
      extensions: { code: ErrorCode.DATABASE_TIMEOUT },
    };
  }
  logger.error({ err: error, path: formatted.path }, 'unexpected error while serving a request');
  return {
    message: 'Internal server error',
    locations: formatted.locations,
    path: formatted.path,
    extensions: { ...(extensions.serviceName ? { serviceName: extensions.serviceName } : {}), code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/**
 * PostgreSQL's SQLSTATE for a statement cancelled by `statement_timeout` (57014) or a lock not granted
 * within `lock_timeout` (55P03), found on the error or what it wraps (GraphQL's originalError, an
 * ORM's previous error, a cause).
 */
function databaseTimeoutOf(error: unknown): 'statement' | 'lock' | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 6 && current && typeof current === 'object'; depth++) {
    const { code, sqlState } = current as { code?: unknown; sqlState?: unknown };
    const state = typeof sqlState === 'string' ? sqlState : code;
    if (state === '57014') return 'statement';
    if (state === '55P03') return 'lock';
    const wrapper = current as { originalError?: unknown; previous?: unknown; cause?: unknown };
    current = wrapper.originalError ?? wrapper.previous ?? wrapper.cause;
  }
  return undefined;
}
