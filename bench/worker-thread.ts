import { type MessagePort, Worker } from 'node:worker_threads';

/** How long close() lets a worker end by itself before terminating it. */
const CLOSE_TIMEOUT_MS = 30_000;

type Message = { readonly type: string };

/**
 * A worker thread (a TypeScript file: it inherits this process's `--import` of the SWC loader) whose
 * replies are taken in order and checked by type. A `{ type: 'failed', message }` reply, an uncaught
 * error or the worker's exit rejects whoever waits.
 */
export class WorkerThread<In extends Message, Out extends Message> {
  private readonly worker: Worker;
  private readonly inbox: Out[] = [];
  private waiter?: { resolve(reply: Out): void; reject(error: Error): void };
  private failure?: Error;
  private readonly exited: Promise<void>;

  constructor(
    readonly name: string,
    file: URL,
    private readonly closeMessage: In,
    workerData?: unknown,
  ) {
    this.worker = new Worker(file, { workerData });
    this.worker.on('message', (reply: Out) => this.arrive(reply));
    this.worker.on('error', (error) => this.fail(error));
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', (code) => {
        this.fail(new Error(`the ${name} worker exited (code ${code})`));
        resolve();
      }),
    );
  }

  send(message: In): void {
    this.worker.postMessage(message);
  }

  /** The next reply, which must be `type`; undefined if none comes within `timeoutMs` (a later one stays queued). */
  async next<K extends Out['type']>(type: K, timeoutMs: number): Promise<Extract<Out, { type: K }> | undefined> {
    const reply = await this.take(timeoutMs);
    if (reply === undefined) return undefined;
    if (reply.type === 'failed') throw new Error(`the ${this.name} worker failed: ${(reply as Message & { message?: string }).message}`);
    if (reply.type !== type) throw new Error(`the ${this.name} worker answered "${reply.type}", expected "${type}"`);
    return reply as Extract<Out, { type: K }>;
  }

  /** Like {@link next}, but throws when no reply comes within `timeoutMs`. */
  async expect<K extends Out['type']>(type: K, timeoutMs: number): Promise<Extract<Out, { type: K }>> {
    const reply = await this.next(type, timeoutMs);
    if (!reply) throw new Error(`timed out after ${timeoutMs} ms waiting for the ${this.name} worker to answer "${type}"`);
    return reply;
  }

  /** Asks the worker to release what it holds and end; terminates it if it has not ended within 30 s. */
  async close(): Promise<void> {
    if (!this.failure) this.send(this.closeMessage);
    let timer: NodeJS.Timeout | undefined;
    const overdue = new Promise<'overdue'>((resolve) => (timer = setTimeout(() => resolve('overdue'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([this.exited, overdue])) === 'overdue') await this.worker.terminate();
    clearTimeout(timer);
  }

  private take(timeoutMs: number): Promise<Out | undefined> {
    const head = this.inbox.shift();
    if (head) return Promise.resolve(head);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.waiter = {
        resolve: (reply) => {
          clearTimeout(timer);
          resolve(reply);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
    });
  }

  private arrive(reply: Out): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter) waiter.resolve(reply);
    else this.inbox.push(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
  }
}

/** In a worker: handles each message from the parent in turn of arrival; a failure is answered `{ type: 'failed', message }`. */
export function serveParent<In>(port: MessagePort, handle: (message: In) => Promise<void>): void {
  port.on('message', (message: In) => {
    void handle(message).catch((error: unknown) =>
      port.postMessage({ type: 'failed', message: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
}
