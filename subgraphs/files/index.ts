import 'reflect-metadata';
import { loadConfig } from '../../platform/config.js';
import { runStandalone } from '../../platform/subgraph.js';
import { filesSubgraph } from './subgraph.js';

await runStandalone(filesSubgraph, loadConfig);
