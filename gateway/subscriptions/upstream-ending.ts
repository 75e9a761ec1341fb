import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../../platform/errors.js';
import { logger } from '../../platform/logger.js';

/** How one opening of an upstream subscription on the owning subgraph ended. */
export enum UpstreamEndingKind {
  /** The subgraph refused the operation itself: opened again, it would be refused again. Terminal for every subscriber. */
  REFUSED = 'REFUSED',
  /** The subgraph answered errors that may pass (an internal error, a subscriber too slow...): reopen with backoff. */
  FAILED = 'FAILED',
  /** The connection was lost (the subgraph restarted, closed it as a token expired, or went away): reopen with backoff. */
  LOST = 'LOST',
  /** The subgraph completed the subscription (it is stopping), or the gateway stopped reading: reopen. */
  COMPLETED = 'COMPLETED',
}

export type UpstreamEnding =
  | { readonly kind: UpstreamEndingKind.REFUSED; readonly errors: readonly GraphQLFormattedError[] }
  | { readonly kind: UpstreamEndingKind.FAILED; readonly errors: readonly GraphQLFormattedError[] }
  | { readonly kind: UpstreamEndingKind.LOST; readonly error: unknown }
  | { readonly kind: UpstreamEndingKind.COMPLETED };

/**
 * Codes with which a subgraph refuses the operation itself (its arguments, variables, document or
 * caller), in the one error registry or graphql-js's and Apollo's own: the same operation opened
 * again would be refused again.
 */
const REFUSAL_CODES: ReadonlySet<string> = new Set([
  ErrorCode.BAD_USER_INPUT,
  ErrorCode.FORBIDDEN,
  ErrorCode.UNAUTHENTICATED,
  ErrorCode.NOT_FOUND,
  ErrorCode.QUERY_TOO_COMPLEX,
  'GRAPHQL_VALIDATION_FAILED',
  'GRAPHQL_PARSE_FAILED',
]);

/**
 * What the errors a subgraph answered instead of an event mean for the upstream: REFUSED when one
 * of them carries a refusal code, FAILED otherwise (no code, INTERNAL_SERVER_ERROR,
 * SUBSCRIBER_TOO_SLOW...). `errors` are graphql-ws's: an `error` message's payload, or the errors of
 * a `next` without data.
 */
export function endingOf(errors: readonly unknown[]): UpstreamEnding {
  const formatted = errors.map(asFormattedError);
  const refused = formatted.some((error) => REFUSAL_CODES.has(String(error.extensions?.code)));
  return refused ? { kind: UpstreamEndingKind.REFUSED, errors: formatted } : { kind: UpstreamEndingKind.FAILED, errors: formatted };
}

/** Errors as the subgraph formatted them (anything else, which a subgraph never sends, becomes one without a code). */
function asFormattedError(error: unknown): GraphQLFormattedError {
  if (error && typeof error === 'object' && typeof (error as { message?: unknown }).message === 'string')
    return error as GraphQLFormattedError;
  return { message: String(error) };
}

/** Logs why an upstream is about to reopen (`context`: where, from which cursor, in how long). */
export function logEnding(ending: Exclude<UpstreamEnding, { kind: UpstreamEndingKind.REFUSED }>, context: Record<string, unknown>): void {
  switch (ending.kind) {
    case UpstreamEndingKind.FAILED:
      logger.warn({ ...context, errors: ending.errors }, 'the subgraph failed the upstream subscription; reopening from the last cursor');
      return;
    case UpstreamEndingKind.LOST:
      logger.warn({ ...context, err: ending.error }, 'upstream subscription lost; reopening from the last cursor');
      return;
    case UpstreamEndingKind.COMPLETED:
      logger.info(context, 'upstream subscription completed by the subgraph; reopening from the last cursor');
      return;
    default: {
      const unknown: never = ending;
      return unknown;
    }
  }
}
