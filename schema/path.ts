/** Where the committed supergraph lives (read by the gateway; written by `npm run compose`). */
export const SUPERGRAPH_PATH = new URL('./supergraph.graphql', import.meta.url);
