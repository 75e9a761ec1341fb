import 'reflect-metadata';
import { loadConfig } from '../shared/config.js';
import { runStandalone } from '../shared/subgraph.js';
import { filesSubgraph } from './subgraph.js';

await runStandalone(filesSubgraph, loadConfig);
