import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import { logger } from './logger.js';

/** What a graphql-ws callback sees of the connection: the socket and its upgrade request. */
export type Extra = {
  readonly socket: WebSocket;
  readonly request: http.IncomingMessage;
};

/**
 * graphql-ws on a `ws` server, as graphql-ws's own `use/ws` adapter does it, except for what a client
 * can provoke: a message the protocol does not allow (a `next` from a client, a second
 * `connection_init`...) closes that socket with 4400 Bad request and a warning in the log, never a
 * raw stack on stderr and a 4500 that names the server's internals. `keepAliveMs` 0 leaves keep-alive
 * to the caller. dispose() closes every socket (1001 Going away) and the server.
 */
export function serveGraphqlWs<P extends Record<string, unknown>>(
  options: ServerOptions<P, Extra>,
  wss: WebSocketServer,
  keepAliveMs: number,
): { dispose(): Promise<void> } {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('error', (error) => logger.error({ err: error }, 'websocket server error'));
  wss.on('connection', (socket, request) => {
    socket.once('error', (error) => {
      logger.warn({ err: error }, 'websocket error; closing it');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    });
    let pongWait: NodeJS.Timeout | undefined;
    const ping =
      keepAliveMs > 0
        ? setInterval(() => {
            if (socket.readyState !== socket.OPEN) return;
            pongWait = setTimeout(() => socket.terminate(), keepAliveMs);
            socket.once('pong', () => clearTimeout(pongWait));
            socket.ping();
          }, keepAliveMs)
        : undefined;
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (error) => (error ? reject(error) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            try {
              await handle(String(data));
            } catch (error) {
              // graphql-ws throws on a message that is well formed but not allowed here: the client's fault.
              logger.warn({ reason: (error as Error).message }, 'websocket message refused');
              socket.close(CloseCode.BadRequest, 'Bad request: message not allowed here');
            }
          }),
      },
      { socket, request },
    );
    socket.once('close', (code, reason) => {
      clearTimeout(pongWait);
      clearInterval(ping);
      void closed(code, String(reason));
    });
  });
  return {
    dispose: async () => {
      for (const client of wss.clients) client.close(1001, 'Going away');
      wss.removeAllListeners();
      await new Promise<void>((resolve, reject) => wss.close((error) => (error ? reject(error) : resolve())));
    },
  };
}
