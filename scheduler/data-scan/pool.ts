import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DEFAULT_EXTRACTION_LIMITS, type ExtractionLimits } from './limits.js';
import type { ContentRuleCount, ContentRuleSpec } from './content-match.js';
import type { SensitiveMatchCount } from './scan.js';

/**
 * What scanning one file gave: its match counts (and, when content rules were given, how often each
 * matched), or why it was skipped (over a budget, unreadable).
 */
export type FileScan =
  | { readonly status: 'scanned'; readonly matches: readonly SensitiveMatchCount[]; readonly ruleMatches?: readonly ContentRuleCount[] }
  | { readonly status: 'skipped'; readonly reason: string };

/** A file sent to a worker. `content` is a copy of the file's bytes, transferred. */
export interface ScanRequest {
  readonly id: number;
  readonly content: ArrayBuffer;
  readonly mimeType: string | null;
  readonly name?: string;
  /** FILE policies' content rules to count in the text, beside the detectors. */
  readonly rules?: readonly ContentRuleSpec[];
}

/** A worker's answer to one {@link ScanRequest}. */
export interface ScanReply {
  readonly id: number;
  readonly result: FileScan;
}

export interface DataScanPoolOptions {
  /** Worker threads at most, started on demand. Default 1. */
  readonly workers?: number;
  /** How long one file's extraction and detection may take before its worker is ended. Default 10 s. */
  readonly timeoutMs?: number;
  /**
   * A worker's JavaScript heap (`resourceLimits.maxOldGenerationSizeMb`); outside it, the process's resident
   * memory may grow by twice this (and the file's size) while the worker scans. Past either, the file is
   * skipped. Default 256 MiB.
   */
  readonly memoryMb?: number;
  /** Archive and text limits; default {@link DEFAULT_EXTRACTION_LIMITS}. */
  readonly limits?: ExtractionLimits;
}

/** Raised to whoever waits on a scan when the pool is closed under it: the file was not scanned, and is not skipped. */
export class DataScanPoolClosedError extends Error {
  override readonly name = 'DataScanPoolClosedError';
  constructor() {
    super('the data scan pool is closed');
  }
}

// The worker is this folder's scan-worker module, in the language this module runs as: TypeScript under
// the SWC loader (npm start, tests), JavaScript once built. A TypeScript worker needs the loader: Node
// hands its --import to a worker only when this process was started with it.
const WORKER_FILE = new URL(`./scan-worker${path.extname(fileURLToPath(import.meta.url))}`, import.meta.url);
const TS_LOADER = '@swc-node/register/esm-register';
const TYPESCRIPT_WORKER = WORKER_FILE.pathname.endsWith('.ts');
const WORKER_EXEC_ARGV = TYPESCRIPT_WORKER && !process.execArgv.includes(TS_LOADER) ? ['--import', TS_LOADER] : undefined;
// SWC's native binding, loaded by each TypeScript worker, must stay loaded in this thread too: once the last
// thread holding it has ended, the next worker that loads it again crashes the whole process (SIGSEGV).
if (TYPESCRIPT_WORKER) createRequire(import.meta.url)('@swc/core');

interface Task {
  readonly content: Uint8Array;
  readonly mimeType: string | null;
  readonly name?: string;
  readonly rules?: readonly ContentRuleSpec[];
  resolve(result: FileScan): void;
  reject(error: Error): void;
}

const seconds = (ms: number): string => `${Number((ms / 1000).toFixed(1))} s`;
const MIB = 1024 * 1024;
/** How often resident memory is looked at while files are being scanned. */
const MEMORY_CHECK_MS = 50;

/** One worker thread and the file it is scanning, if any. */
class ScanThread {
  readonly worker: Worker;
  readonly ready: Promise<void>;
  alive = true;
  private current?: { readonly id: number; readonly startRss: number; readonly allowance: number; finish(result: FileScan | Error): void };
  private lastId = 0;

  constructor(
    private readonly options: Required<DataScanPoolOptions>,
    private readonly closing: () => boolean,
  ) {
    this.worker = new Worker(WORKER_FILE, {
      workerData: { limits: options.limits },
      execArgv: WORKER_EXEC_ARGV,
      resourceLimits: { maxOldGenerationSizeMb: options.memoryMb, maxYoungGenerationSizeMb: Math.min(32, options.memoryMb / 4) },
      stdout: false,
      stderr: false,
    });
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', () => resolve());
      this.worker.once('error', reject);
      this.worker.once('exit', (code) => reject(new Error(`the data scan worker exited at start (code ${code})`)));
    });
    // Until ready a failure rejects `ready`; from then on it is the current file's.
    this.ready.catch(() => undefined);
    this.worker.on('message', (reply: ScanReply | { ready: true }) => {
      if ('id' in reply && reply.id === this.current?.id) this.current.finish(reply.result);
    });
    this.worker.on('error', (error: Error & { code?: string }) => {
      this.alive = false;
      this.current?.finish(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? { status: 'skipped', reason: `extraction needed more than ${options.memoryMb} MiB of memory` }
          : { status: 'skipped', reason: `extraction failed (${error.message})` },
      );
    });
    this.worker.on('exit', (code) => {
      this.alive = false;
      this.current?.finish(
        this.closing()
          ? new DataScanPoolClosedError()
          : { status: 'skipped', reason: `extraction stopped (worker exited with code ${code})` },
      );
    });
  }

  /** Whether a file is being scanned, and the resident memory its scan may add (see DataScanPool). */
  get busy(): { readonly startRss: number; readonly allowance: number } | undefined {
    return this.current;
  }

  /** Ends the worker: the current file is skipped for `reason`. */
  abandon(reason: string): void {
    this.current?.finish({ status: 'skipped', reason });
    this.alive = false;
    void this.worker.terminate();
  }

  /** Sends one file and answers its result; past the time budget the worker is ended and the file skipped. */
  scan(task: Task): Promise<FileScan> {
    return new Promise((resolve, reject) => {
      const id = ++this.lastId;
      const timer = setTimeout(
        () => this.abandon(`extraction took longer than ${seconds(this.options.timeoutMs)}`),
        this.options.timeoutMs,
      );
      // A copy of its own, handed over without another copy: the caller's buffer may be a slice of a shared pool.
      const content = new Uint8Array(task.content);
      this.current = {
        id,
        startRss: process.memoryUsage.rss(),
        // The heap budget, as much again outside it (typed arrays, decoded streams), and the file itself.
        allowance: 2 * this.options.memoryMb * MIB + content.length,
        finish: (result) => {
          clearTimeout(timer);
          this.current = undefined;
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      this.worker.postMessage(
        { id, content: content.buffer, mimeType: task.mimeType, name: task.name, rules: task.rules } satisfies ScanRequest,
        [content.buffer],
      );
    });
  }
}

/**
 * Scans files in worker threads, so that one hostile file can neither hold up the scheduler's event loop
 * nor take its memory: each file gets a time budget (its worker is ended past it), a heap budget
 * (`resourceLimits`) and a budget for the memory outside the heap (resident memory, looked at every 50 ms),
 * and archives are held to the expansion limits. A file over a budget is `skipped` with
 * the reason. Workers start when files come and are reused; one that was ended is replaced.
 */
export class DataScanPool {
  private readonly options: Required<DataScanPoolOptions>;
  private readonly idle: ScanThread[] = [];
  private readonly threads = new Set<ScanThread>();
  private readonly queue: Task[] = [];
  private closed = false;
  private memoryCheck?: NodeJS.Timeout;

  constructor(options: DataScanPoolOptions = {}) {
    this.options = {
      workers: options.workers ?? 1,
      timeoutMs: options.timeoutMs ?? 10_000,
      memoryMb: options.memoryMb ?? 256,
      limits: options.limits ?? DEFAULT_EXTRACTION_LIMITS,
    };
    if (!Number.isInteger(this.options.workers) || this.options.workers < 1)
      throw new RangeError(`workers must be a positive integer, got ${this.options.workers}`);
  }

  /** Worker threads running now (idle or busy). */
  get size(): number {
    return this.threads.size;
  }

  /**
   * Extracts `content` and runs the detectors, and the content `rules` when given, in a worker: its match
   * counts, or why it was skipped (a rule that runs past the time budget skips the file like a slow
   * extraction). Never rejects for any content; rejects with {@link DataScanPoolClosedError} once the pool
   * is closed, and when a worker cannot start at all (the file is not to blame, so it is not skipped).
   */
  scan(content: Uint8Array, mimeType: string | null, name?: string, rules?: readonly ContentRuleSpec[]): Promise<FileScan> {
    if (this.closed) return Promise.reject(new DataScanPoolClosedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ content, mimeType, name, rules, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    // A worker that ended while idle (an error after its last answer) is dropped, not handed a file.
    for (const thread of this.idle.filter((t) => !t.alive)) {
      this.idle.splice(this.idle.indexOf(thread), 1);
      this.threads.delete(thread);
    }
    while (this.queue.length > 0 && (this.idle.length > 0 || this.threads.size < this.options.workers)) {
      const thread = this.idle.pop() ?? this.start();
      void this.run(thread, this.queue.shift()!);
    }
  }

  private start(): ScanThread {
    const thread = new ScanThread(this.options, () => this.closed);
    this.threads.add(thread);
    return thread;
  }

  private async run(thread: ScanThread, task: Task): Promise<void> {
    try {
      await thread.ready;
      const scanned = thread.scan(task);
      this.memoryCheck ??= setInterval(() => this.checkMemory(), MEMORY_CHECK_MS).unref();
      task.resolve(await scanned);
    } catch (error) {
      // A worker ended by close() while starting: the file was not scanned because the pool closed.
      task.reject(this.closed ? new DataScanPoolClosedError() : (error as Error));
    }
    if (![...this.threads].some((t) => t.busy)) {
      clearInterval(this.memoryCheck);
      this.memoryCheck = undefined;
    }
    if (thread.alive && !this.closed) this.idle.push(thread);
    else {
      this.threads.delete(thread);
      await thread.worker.terminate();
    }
    if (!this.closed) this.pump();
  }

  /**
   * The memory budget outside the heap: a worker's typed arrays and decoded streams (a PDF stream that
   * inflates without end) are not held by resourceLimits, and threads share the process's memory. While
   * files are scanned, the process's resident memory may grow by each busy worker's allowance (twice
   * the heap budget, plus its file) over what it was when the first of them started; past that, the
   * busy workers are ended and their files skipped.
   */
  private checkMemory(): void {
    const busy = [...this.threads].filter((thread) => thread.busy);
    if (busy.length === 0) return;
    const baseline = Math.min(...busy.map((thread) => thread.busy!.startRss));
    const allowance = busy.reduce((sum, thread) => sum + thread.busy!.allowance, 0);
    if (process.memoryUsage.rss() - baseline <= allowance) return;
    for (const thread of busy) thread.abandon(`extraction needed more than ${this.options.memoryMb} MiB of memory`);
  }

  /** Ends every worker; files being scanned reject with {@link DataScanPoolClosedError}, queued ones too. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.memoryCheck);
    this.memoryCheck = undefined;
    for (const task of this.queue.splice(0)) task.reject(new DataScanPoolClosedError());
    this.idle.length = 0;
    const threads = [...this.threads];
    this.threads.clear();
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }
}
