import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { composeSupergraph, SUPERGRAPH_PATH } from './supergraph.js';

describe('the committed supergraph', () => {
  it('composes from the subgraphs with no errors and no hints', async () => {
    const { errors, hints, supergraphSdl } = await composeSupergraph();
    expect(errors).toEqual([]);
    expect(hints).toEqual([]);
    expect(supergraphSdl).toBeDefined();
  });

  it('is what `npm run compose` writes today (run it when a subgraph changes)', async () => {
    const { supergraphSdl } = await composeSupergraph();
    const committed = fs.readFileSync(SUPERGRAPH_PATH, 'utf8');
    expect(committed.trimEnd()).toBe(supergraphSdl!.trimEnd());
  });
});
