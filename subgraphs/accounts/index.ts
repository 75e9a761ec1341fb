import 'reflect-metadata';
import { loadConfig } from '../../platform/config.js';
import { runStandalone } from '../../platform/subgraph.js';
import { accountsSubgraph } from './subgraph.js';

await runStandalone(accountsSubgraph, loadConfig);
