import { useEffect, useState } from 'react';

/** Keyset pagination: the `after` cursors of the pages seen so far, reset when `resetKey` (the filters) changes. */
export function usePages(resetKey: string) {
  const [stack, setStack] = useState<(string | undefined)[]>([undefined]);
  useEffect(() => setStack([undefined]), [resetKey]);
  return {
    after: stack[stack.length - 1],
    page: stack.length,
    next: (cursor: string) => setStack((s) => [...s, cursor]),
    previous: () => setStack((s) => (s.length > 1 ? s.slice(0, -1) : s)),
    first: () => setStack([undefined]),
  };
}

export function Pager({
  pages,
  pageInfo,
}: {
  pages: ReturnType<typeof usePages>;
  pageInfo: { hasNextPage: boolean; endCursor: string | null } | undefined;
}) {
  return (
    <nav className="pager" aria-label="Pagination">
      <button type="button" disabled={pages.page === 1} onClick={pages.first}>
        First
      </button>
      <button type="button" disabled={pages.page === 1} onClick={pages.previous}>
        Previous
      </button>
      <span>Page {pages.page}</span>
      <button
        type="button"
        disabled={!pageInfo?.hasNextPage || !pageInfo.endCursor}
        onClick={() => pageInfo?.endCursor && pages.next(pageInfo.endCursor)}
      >
        Next
      </button>
    </nav>
  );
}
