// The gateway measured by `npm run bench:subscriptions`, in a worker thread of its own: in a
// deployment the gateway and each subgraph are separate services, and here the subgraphs run on the
// benchmark's main thread. It serves the supergraph over the subgraphs' URLs and answers what it
// holds, how busy its thread was and its memory after a full garbage collection.
import 'reflect-metadata';
import fs from 'node:fs';
import { parentPort, type MessagePort, workerData } from 'node:worker_threads';
import { threadMemory } from './thread-memory.js';
import { watchThread, type ThreadWatch } from './thread-watch.js';
import type { FromGateway, GatewayWorkerData, ToGateway } from './subscriptions.protocol.js';
import { serveParent } from './worker-thread.js';

if (!parentPort) throw new Error('bench/gateway.worker.ts runs as a worker thread of bench/subscriptions.bench.ts');
const port: MessagePort = parentPort;
const { env, supergraphPath, subgraphUrls } = workerData as GatewayWorkerData;
// The logger reads LOG_LEVEL when its module loads, so everything that logs is imported after this.
process.env.LOG_LEVEL = 'silent';
const { loadConfig } = await import('../platform/config.js');
const { startGateway } = await import('../gateway/server.js');
const reply = (message: FromGateway) => port.postMessage(message);

const gateway = await startGateway({
  config: loadConfig(env),
  supergraphSdl: fs.readFileSync(supergraphPath, 'utf8'),
  subgraphUrls,
  port: 0,
});
let watching: (() => ThreadWatch) | undefined;

async function handle(message: ToGateway): Promise<void> {
  switch (message.type) {
    case 'stats': {
      const { upstreams, subscribers } = gateway.subscriptions.stats();
      reply({ type: 'stats', upstreams, subscribers, subgraphRequests: gateway.dedup.sent + gateway.dedup.shared });
      return;
    }
    case 'watch':
      watching = watchThread();
      reply({ type: 'watching' });
      return;
    case 'watched': {
      if (!watching) throw new Error('not watching');
      reply({ type: 'watched', watch: watching() });
      watching = undefined;
      return;
    }
    case 'memory':
      reply({ type: 'memory', memory: threadMemory() });
      return;
    case 'close':
      await gateway.stop();
      reply({ type: 'closed' });
      port.close();
      return;
    default: {
      const unknown: never = message;
      throw new Error(`unknown message ${JSON.stringify(unknown)}`);
    }
  }
}

serveParent(port, handle);
reply({ type: 'ready', url: gateway.url });
