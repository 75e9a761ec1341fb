/** One subgraph's readiness as the gateway sees it. */
export interface SubgraphReadiness {
  readonly status: 'ready' | 'unready';
  readonly database?: string;
  readonly error?: string;
}

/** Asks every subgraph's `/readyz` (2 s each, in parallel); a subgraph that does not answer is unready. */
export async function checkSubgraphs(urls: Readonly<Record<string, string>>): Promise<Record<string, SubgraphReadiness>> {
  const entries = await Promise.all(
    Object.entries(urls).map(async ([name, url]): Promise<[string, SubgraphReadiness]> => {
      try {
        const response = await fetch(new URL('/readyz', url), { signal: AbortSignal.timeout(2_000) });
        const body = (await response.json()) as { status?: string; database?: string };
        return [name, { status: response.ok && body.status === 'ready' ? 'ready' : 'unready', database: body.database }];
      } catch (error) {
        return [name, { status: 'unready', error: (error as Error).message }];
      }
    }),
  );
  return Object.fromEntries(entries);
}
