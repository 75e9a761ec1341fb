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
/** Raw sockets opened by a test file ({@link rawSocket}), terminated by {@link disposeClients}. */
const raw = new Set<WebSocket>();

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

/** Disposes every client {@link connect} opened and terminates every socket {@link rawSocket} opened. */
export async function disposeClients(): Promise<void> {
  const clients = [...open];
  open.clear();
  for (const socket of raw) socket.terminate();
  raw.clear();
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

/** Resolves as `promise` does, or rejects naming `what` once `ms` have passed first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** A raw `ws` socket speaking graphql-transport-ws (nothing is sent for it), with its close and ping events to wait on. */
export interface RawSocket {
  readonly socket: WebSocket;
  /** Resolves when the socket is open. */
  readonly opened: Promise<void>;
  /** Resolves with the close code and reason, however the socket closes. */
  readonly closed: Promise<{ readonly code: number; readonly reason: string }>;
  /** Resolves at the first ping frame from the server. */
  readonly pinged: Promise<void>;
  /** Resolves with the next graphql-ws message the server sends. */
  nextMessage(): Promise<{ readonly type: string; readonly payload?: unknown }>;
}

/** Opens a raw websocket to `httpUrl` (ws:// on the same path) with the graphql-transport-ws subprotocol. */
export function rawSocket(httpUrl: string, options: { readonly autoPong?: boolean } = {}): RawSocket {
  const socket = new WebSocket(httpUrl.replace(/^http/, 'ws'), 'graphql-transport-ws', { autoPong: options.autoPong ?? true });
  raw.add(socket);
  const messages: { type: string; payload?: unknown }[] = [];
  const readers: ((message: { type: string; payload?: unknown }) => void)[] = [];
  socket.on('message', (data) => {
    const message = JSON.parse(String(data)) as { type: string; payload?: unknown };
    const reader = readers.shift();
    if (reader) reader(message);
    else messages.push(message);
  });
  socket.on('error', () => undefined); // the close event reports how it ended
  return {
    socket,
    opened: new Promise((resolve) => socket.once('open', () => resolve())),
    closed: new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
    pinged: new Promise((resolve) => socket.once('ping', () => resolve())),
    nextMessage: () => {
      const message = messages.shift();
      return message ? Promise.resolve(message) : new Promise((resolve) => readers.push(resolve));
    },
  };
}
