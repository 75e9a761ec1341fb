import { createContext } from 'react';
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws';
import { cacheExchange, Client, CombinedError, fetchExchange, subscriptionExchange } from 'urql';
import { websocketUrl, type Session } from './session';

/** The session's graphql-ws client, for subscriptions that resume from their own last cursor. */
export const WsContext = createContext<WsClient | undefined>(undefined);

/** The urql client of a session: queries and mutations over HTTP, subscriptions over graphql-ws, both same origin. */
export function clientFor(session: Session | undefined): { client: Client; ws: WsClient } {
  const authorization = session ? `Bearer ${session.token}` : undefined;
  const ws = createWsClient({
    url: websocketUrl(),
    lazy: true,
    retryAttempts: Infinity,
    shouldRetry: () => true,
    connectionParams: authorization ? { authorization } : {},
  });
  const client = new Client({
    url: '/graphql',
    requestPolicy: 'cache-and-network',
    // POST with a JSON body: the gateway's CSRF prevention refuses a GET without a preflight header.
    preferGetMethod: false,
    fetchOptions: (): RequestInit => ({ headers: authorization ? { authorization } : ({} as Record<string, string>) }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return {
            subscribe(sink) {
              const unsubscribe = ws.subscribe(input, sink);
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
  return { client, ws };
}

interface ErrorLike {
  message: string;
  extensions?: Record<string, unknown>;
}

/** An error in plain words with its code, e.g. "You are not allowed to do this (FORBIDDEN): ...". */
export function plainError(error: CombinedError | ErrorLike | readonly ErrorLike[] | Error | undefined): string | undefined {
  if (!error) return undefined;
  const list: ErrorLike[] =
    error instanceof CombinedError
      ? error.graphQLErrors.length
        ? error.graphQLErrors.map((e) => ({ message: e.message, extensions: e.extensions }))
        : [{ message: error.networkError?.message ?? error.message, extensions: { code: 'NETWORK_ERROR' } }]
      : Array.isArray(error)
        ? (error as ErrorLike[])
        : [error as ErrorLike];
  return list
    .map((e) => {
      const code = typeof e.extensions?.code === 'string' ? e.extensions.code : 'ERROR';
      return `${PLAIN[code] ?? 'Something went wrong'} (${code}): ${e.message.replace(/^\[.*?\]\s*/, '')}`;
    })
    .join('\n');
}

const PLAIN: Record<string, string> = {
  UNAUTHENTICATED: 'You are not signed in, or your token has expired',
  FORBIDDEN: 'Your role does not allow this',
  BAD_USER_INPUT: 'Something in the request is not valid',
  NOT_FOUND: 'It does not exist (any more)',
  CONFLICT: 'It changed meanwhile or is in the wrong state for this',
  PROVIDER_ERROR: 'The SaaS provider refused or failed',
  SUBGRAPH_UNAVAILABLE: 'Part of Tenantwatch is not answering',
  DATABASE_TIMEOUT: 'The database took too long; try again',
  RATE_LIMITED: 'Too many requests; wait a moment',
  NETWORK_ERROR: 'Tenantwatch cannot be reached',
};

export const SEVERITIES = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH'] as const;

export function when(value: string | null | undefined): string {
  if (!value) return '—';
  return new Date(value).toLocaleString();
}
