import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { SUBGRAPHS } from '../subgraphs/index.js';

export { SUPERGRAPH_PATH } from './path.js';

/**
 * Placeholder URLs written into the committed supergraph: the gateway always overrides them with
 * the subgraphs it was started with (free ports, or the *_URL variables under docker compose).
 */
export const placeholderUrl = (name: string) => `http://${name}:4000/graphql`;

export interface Composition {
  readonly supergraphSdl?: string;
  readonly errors: readonly string[];
  readonly hints: readonly string[];
}

/** Composes the four subgraphs' SDL with @apollo/composition (no database or server needed). */
export async function composeSupergraph(): Promise<Composition> {
  const services = await Promise.all(
    SUBGRAPHS.map(async (s) => ({ name: s.name, url: placeholderUrl(s.name), typeDefs: parse((await s.buildSchema()).sdl) })),
  );
  const result = composeServices(services);
  return {
    supergraphSdl: result.errors ? undefined : result.supergraphSdl,
    errors: (result.errors ?? []).map((e) => e.message),
    hints: (result.hints ?? []).map((h) => `${h.definition.code}: ${h.message}`),
  };
}
