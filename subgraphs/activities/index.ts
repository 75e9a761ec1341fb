import 'reflect-metadata';
import { loadConfig } from '../../platform/config.js';
import { runStandalone } from '../../platform/subgraph.js';
import { activitiesSubgraph } from './subgraph.js';

await runStandalone(activitiesSubgraph, loadConfig);
