// What a thread of `npm run bench:subscriptions` holds in memory, read after a full garbage collection.
import v8 from 'node:v8';
import vm from 'node:vm';

/** The calling thread's V8 heap and the memory its objects hold outside it, after a full GC (bytes). */
export interface ThreadMemory {
  readonly heapUsed: number;
  /** C++ memory bound to this thread's objects (socket buffers, Buffers), array buffers included. */
  readonly external: number;
}

let collect: (() => void) | undefined;

/** Collects garbage (twice: what the first freed may hold more) and reads the calling thread's memory. */
export function threadMemory(): ThreadMemory {
  if (!collect) {
    // A context made after the flag is set has `gc`; the thread's own global does not.
    v8.setFlagsFromString('--expose-gc');
    collect = vm.runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  const { heapUsed, external } = process.memoryUsage();
  return { heapUsed, external };
}
