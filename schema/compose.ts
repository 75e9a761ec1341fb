// `npm run compose`: rewrites schema/supergraph.graphql from the subgraphs' SDL. Fails (exit 1) on
// composition errors or hints, so that a conflict is fixed rather than committed.
import 'reflect-metadata';
import fs from 'node:fs';
import { composeSupergraph, SUPERGRAPH_PATH } from './supergraph.js';

const { supergraphSdl, errors, hints } = await composeSupergraph();
for (const line of [...errors.map((e) => `error: ${e}`), ...hints.map((h) => `hint: ${h}`)]) console.error(line);
if (!supergraphSdl || hints.length > 0) process.exit(1);
fs.writeFileSync(SUPERGRAPH_PATH, supergraphSdl.endsWith('\n') ? supergraphSdl : `${supergraphSdl}\n`);
console.log(`wrote ${SUPERGRAPH_PATH.pathname}`);
