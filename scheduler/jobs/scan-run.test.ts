import { describe, expect, it } from 'vitest';
import { PagesAhead, pagesFrom } from './scan-run.js';

/** A listing of pages "a" → "b" → "c" whose reads answer when the test says. */
function listing() {
  const reads: (string | null)[] = [];
  const answers = new Map<string | null, { resolve: () => void; reject: (error: Error) => void }>();
  const next: Record<string, string | null> = { start: 'b', b: 'c', c: null };
  const read = (token: string | null) =>
    new Promise<{ token: string | null; next: string | null }>((resolve, reject) => {
      reads.push(token);
      answers.set(token, { resolve: () => resolve({ token, next: next[token ?? 'start'] ?? null }), reject });
    });
  return { reads, answers, read };
}

describe('PagesAhead', () => {
  it('asks for the next page while the caller still holds this one, and reads each page once', async () => {
    const { reads, answers, read } = listing();
    const pages = new PagesAhead(read);
    const first = pages.take(null);
    answers.get(null)!.resolve();
    const page = await first;
    pages.askAhead(page.next!);
    // Asked for before the caller is done with the first page.
    expect(reads).toEqual([null, 'b']);
    answers.get('b')!.resolve();
    expect(await pages.take('b')).toEqual({ token: 'b', next: 'c' });
    // A token other than the one asked ahead is read afresh.
    const other = pages.take('c');
    answers.get('c')!.resolve();
    expect(await other).toEqual({ token: 'c', next: null });
    expect(reads).toEqual([null, 'b', 'c']);
  });

  it('hands a failed page ahead to the take that collects it, never as an unhandled rejection', async () => {
    const { answers, read } = listing();
    const pages = new PagesAhead(read);
    pages.askAhead('b');
    answers.get('b')!.reject(new Error('HTTP 503'));
    await Promise.resolve();
    await expect(pages.take('b')).rejects.toThrow('HTTP 503');
  });

  it('settle() waits for a page asked ahead and not taken, whatever its end', async () => {
    const { answers, read } = listing();
    const pages = new PagesAhead(read);
    pages.askAhead('b');
    let settled = false;
    const settling = pages.settle().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    answers.get('b')!.reject(new Error('gone'));
    await settling;
    expect(settled).toBe(true);
    // Nothing left ahead: the next take reads.
    const again = pages.take('b');
    answers.get('b')!.resolve();
    expect(await again).toEqual({ token: 'b', next: 'c' });
  });
});

describe('pagesFrom', () => {
  it('gives every page once, each next one asked for while the caller holds the last', async () => {
    const { reads, answers, read } = listing();
    const seen: (string | null)[] = [];
    const answer = (token: string | null) => queueMicrotask(() => answers.get(token)!.resolve());
    answer(null);
    for await (const page of pagesFrom(read, null, () => false)) {
      seen.push(page.token);
      // The next page was asked for before this one is handled.
      if (page.next) {
        expect(reads.at(-1)).toBe(page.next);
        answer(page.next);
      }
    }
    expect(seen).toEqual([null, 'b', 'c']);
    expect(reads).toEqual([null, 'b', 'c']);
  });

  it('asks for nothing ahead while stopping, and a loop left early waits for the page asked ahead', async () => {
    const { reads, answers, read } = listing();
    queueMicrotask(() => answers.get(null)!.resolve());
    let stopping = false;
    let left = false;
    const loop = (async () => {
      for await (const page of pagesFrom(read, null, () => stopping)) {
        expect(page.token).toBeNull();
        break;
      }
      left = true;
    })();
    await expect.poll(() => reads).toEqual([null, 'b']);
    await Promise.resolve();
    expect(left).toBe(false);
    answers.get('b')!.resolve();
    await loop;
    expect(left).toBe(true);

    stopping = true;
    const { reads: quiet, answers: quietAnswers, read: quietRead } = listing();
    queueMicrotask(() => quietAnswers.get(null)!.resolve());
    for await (const page of pagesFrom(quietRead, null, () => stopping)) {
      expect(page.next).toBe('b');
      // Nothing was asked ahead: leaving does not wait.
      expect(quiet).toEqual([null]);
      break;
    }
    expect(quiet).toEqual([null]);
  });
});
