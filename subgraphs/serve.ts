// One subgraph as its own process: `node dist/subgraphs/serve.js <name>` (accounts, activities,
// files or app-permissions). Needs DATABASE_URL, listens on PORT, stops cleanly on SIGINT/SIGTERM.
import 'reflect-metadata';
import { loadConfig } from '../platform/config.js';
import { logger } from '../platform/logger.js';
import { runStandalone } from '../platform/subgraph.js';
import { SUBGRAPHS } from './index.js';

const name = process.argv[2];
const definition = SUBGRAPHS.find((subgraph) => subgraph.name === name);
if (!definition) {
  logger.fatal({ subgraph: name }, `name the subgraph to serve: one of ${SUBGRAPHS.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
await runStandalone(definition, loadConfig);
