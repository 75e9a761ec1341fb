import 'reflect-metadata';
import { loadConfig } from '../shared/config.js';
import { runStandalone } from '../shared/subgraph.js';
import { accountsSubgraph } from './subgraph.js';

await runStandalone(accountsSubgraph, loadConfig);
