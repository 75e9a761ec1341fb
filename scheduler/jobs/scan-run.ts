import type { Connector, PageToken } from '../../connectors/contract.js';
import type { ScanKind } from '../../subgraphs/accounts/public.js';
import type { SchedulerServices } from '../services.js';

/** What a scanner gets for one run: the connector, where the last run stopped, and how to save. */
export interface ScanRun<C> {
  readonly instanceId: string;
  readonly kind: ScanKind;
  readonly connector: Connector;
  /** The saved cursor (null: start from the beginning). */
  readonly cursor: C | null;
  /** Saves the cursor after a page: a killed scheduler resumes exactly here. */
  save(cursor: C | null, itemsScanned: number): Promise<void>;
  /** True once the scheduler is stopping (or the instance was deleted): finish the page, save, answer 'paused'. */
  stopping(): boolean;
  /**
   * Counts an item the run skipped and goes on: the provider refused it (`refusedStatus`, e.g. 403,
   * 404, 410, 413) or its content could not be read. `reason` is shown to viewers (Tenantwatch's words).
   */
  skipped?(reason: string, refusedStatus?: number): Promise<void>;
  /** The containers a change notification named, when the run is that notification's (the files scan reads only their changes). */
  readonly containers?: readonly string[];
}

/** How a run ended: everything read, or paused at a saved cursor to be resumed. */
export type ScanOutcome = { readonly status: 'done'; readonly items: number } | { readonly status: 'paused'; readonly items: number };

/** One kind of scan; it takes the services it uses (a scanner names them with `Pick<SchedulerServices, ...>`). */
export type Scanner<C> = (run: ScanRun<C>, services: SchedulerServices) => Promise<ScanOutcome>;

/** A full listing walked page by page under one pass id (rows the pass did not see are deleted). */
export interface FullPassCursor {
  readonly pass: string;
  readonly page: PageToken | null;
  readonly items: number;
}

/**
 * Pages of one listing read one ahead: the next page is asked for as soon as a page arrives, so the
 * provider's answer time overlaps the storing of the page before it. A page asked for ahead and not
 * taken (the run stopped, or failed storing) is waited for by `settle()`, so that nothing is still
 * talking to the provider once a run has ended; its failure, if any, is the next `take`'s.
 */
export class PagesAhead<P> {
  private ahead: { readonly token: string; readonly page: Promise<P> } | null = null;

  constructor(private readonly read: (token: string | null) => Promise<P>) {}

  /** The page at `token`: the one asked for ahead when it is that one, else read now. */
  take(token: string | null): Promise<P> {
    const ahead = this.ahead;
    this.ahead = null;
    if (ahead && ahead.token === token) return ahead.page;
    return this.read(token);
  }

  /** Asks for the page at `token` now, for the next `take`. */
  askAhead(token: string): void {
    const page = this.read(token);
    // Its failure is seen by the `take` that collects it; never an unhandled rejection meanwhile.
    page.catch(() => undefined);
    this.ahead = { token, page };
  }

  /** Waits for a page asked for ahead and not taken, ignoring how it ended. */
  async settle(): Promise<void> {
    const ahead = this.ahead;
    this.ahead = null;
    await ahead?.page.catch(() => undefined);
  }
}

/**
 * A listing's pages from `first` on, each next one asked for ahead (unless `stopping()`) while the
 * caller stores the one it was given. Leaving the loop early (break, return, throw) waits for a page
 * asked ahead and not taken, so nothing is still talking to the provider after it.
 */
export async function* pagesFrom<P extends { readonly next: PageToken | null }>(
  read: (token: PageToken | null) => Promise<P>,
  first: PageToken | null,
  stopping: () => boolean,
): AsyncGenerator<P, void, undefined> {
  const pages = new PagesAhead(read);
  try {
    for (let token = first; ;) {
      const page = await pages.take(token);
      if (page.next && !stopping()) pages.askAhead(page.next);
      yield page;
      if (!page.next) return;
      token = page.next;
    }
  } finally {
    await pages.settle();
  }
}
