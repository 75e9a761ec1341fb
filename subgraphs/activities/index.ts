import 'reflect-metadata';
import { loadConfig } from '../shared/config.js';
import { runStandalone } from '../shared/subgraph.js';
import { activitiesSubgraph } from './subgraph.js';

await runStandalone(activitiesSubgraph, loadConfig);
