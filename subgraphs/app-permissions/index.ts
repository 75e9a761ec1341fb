import 'reflect-metadata';
import { loadConfig } from '../shared/config.js';
import { runStandalone } from '../shared/subgraph.js';
import { appPermissionsSubgraph } from './subgraph.js';

await runStandalone(appPermissionsSubgraph, loadConfig);
