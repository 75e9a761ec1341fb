import 'reflect-metadata';
import { loadConfig } from '../../platform/config.js';
import { runStandalone } from '../../platform/subgraph.js';
import { appPermissionsSubgraph } from './subgraph.js';

await runStandalone(appPermissionsSubgraph, loadConfig);
