import type { GraphQLFormattedError } from 'graphql';
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import { WebSocket } from 'ws';

/** How a subscription ended: completed, with GraphQL errors, or with the socket closed on it. */
export interface Ending {
  readonly errors?: readonly GraphQLFormattedError[];
  readonly close?: { readonly code: number; readonly reason: string };
}

/** A subscription whose events are recorded, with deferreds to wait on (no sleeps). */
export interface Recording<T> {
  readonly events: readonly T[];
  /** Resolves once `count` events have arrived; rejects if the subscription ends first. */
  received(count: number): Promise<readonly T[]>;
  /** Resolves when the subscription ends, however it ends. */
  readonly ended: Promise<Ending>;
  unsubscribe(): void;
}

/** graphql-ws clients opened by a test file, disposed by {@link disposeClients}. */
const open = new Set<Client>();

/** A real graphql-ws client (ws WebSocket, no retries) sending `token` in connection_init; null sends none. */
export function connect(httpUrl: string, token: string | null, options: Partial<ClientOptions> = {}): Client {
  const client = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token === null ? undefined : { authorization: `Bearer ${token}` },
    retryAttempts: 0,
    ...options,
  });
  open.add(client);
  return client;
}

export async function disposeClients(): Promise<void> {
  const clients = [...open];
  open.clear();
  await Promise.all(clients.map((client) => client.dispose()));
}

/** Subscribes and records every event's `data`. */
export function record<T>(client: Client, query: string, variables?: Record<string, unknown>): Recording<T> {
  const events: T[] = [];
  const waiting: { count: number; resolve(events: readonly T[]): void; reject(error: Error): void }[] = [];
  let end!: (ending: Ending) => void;
  let over: Ending | undefined;
  const ended = new Promise<Ending>((resolve) => (end = resolve));
  const settle = () => {
    for (const waiter of [...waiting]) {
      if (events.length >= waiter.count) waiter.resolve(events.slice(0, waiter.count));
      else if (over) waiter.reject(new Error(`ended after ${events.length} of ${waiter.count} events: ${JSON.stringify(over)}`));
      else continue;
      waiting.splice(waiting.indexOf(waiter), 1);
    }
  };
  const finish = (ending: Ending) => {
    if (over) return;
    over = ending;
    end(ending);
    settle();
  };
  const unsubscribe = client.subscribe<T>(
    { query, variables },
    {
      next: (result) => {
        if (result.errors) return finish({ errors: result.errors });
        events.push(result.data as T);
        settle();
      },
      error: (error) => {
        if (Array.isArray(error)) finish({ errors: error as GraphQLFormattedError[] });
        else if (error && typeof error === 'object' && 'code' in error) {
          const { code, reason } = error as { code: number; reason: unknown };
          finish({ close: { code, reason: String(reason) } });
        } else finish({ errors: [{ message: String(error) }] });
      },
      complete: () => finish({}),
    },
  );
  return {
    events,
    ended,
    unsubscribe,
    received: (count) =>
      new Promise((resolve, reject) => {
        waiting.push({ count, resolve, reject });
        settle();
      }),
  };
}
