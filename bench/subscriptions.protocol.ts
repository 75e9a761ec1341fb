// What the three threads of `npm run bench:subscriptions` tell each other: the main thread (the stack
// under test), the committing worker (detections.worker.ts) and the subscribing worker
// (subscribers.worker.ts). Times are milliseconds on one clock that every thread shares.
import type { ThreadMemory } from './thread-memory.js';
import type { ThreadWatch } from './thread-watch.js';

/** Milliseconds on CLOCK_MONOTONIC (process.hrtime): the same clock in every thread of the process. */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Titles the bench gives its detections: `bench:<run>:<seq>` measured, `bench:<run>:warm-up:<n>` not. */
export const measuredTitle = (run: string, seq: number): string => `bench:${run}:${seq}`;
export const warmUpTitle = (run: string, n: number): string => `bench:${run}:warm-up:${n}`;

/** What a detection is about: an account with one of its files and one of its grants. */
export interface DetectionSubject {
  readonly instanceId: string;
  readonly accountId: string;
  readonly fileId: string;
  readonly appPermissionId: string;
}

/** The committing worker's workerData. */
export interface CommitterData {
  readonly databaseUrl: string;
  readonly policyId: string;
  /** Detections rotate over these subjects. */
  readonly subjects: readonly DetectionSubject[];
}

export type ToCommitter =
  | { readonly type: 'raise'; readonly title: string }
  | { readonly type: 'commit'; readonly run: string; readonly count: number; readonly rate: number }
  | { readonly type: 'close' };

/** One paced run: when each detection's COMMIT was answered (NaN when it failed). */
export interface CommitRun {
  readonly commitTimes: Float64Array;
  readonly failures: number;
  readonly errorSamples: readonly string[];
  /** The furthest a detection started behind its schedule, in ms. */
  readonly maxLagMs: number;
  /** From the first scheduled start to the last commit answered. */
  readonly seconds: number;
}

export type FromCommitter =
  | { readonly type: 'ready' }
  | { readonly type: 'raised' }
  | { readonly type: 'committed'; readonly result: CommitRun }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

/** One run's subscribers: where they subscribe and what they expect. */
export interface SubscribeSettings {
  /** Names the run in the detections' titles. */
  readonly run: string;
  /** The graphql-ws URL (ws://.../graphql). */
  readonly url: string;
  readonly token: string;
  readonly subscribers: number;
  readonly query: string;
  /** How many measured detections will be committed (sizes the receipt table). */
  readonly planned: number;
  /** Count events whose account, file or appPermission did not resolve as incomplete. */
  readonly checkReferences: boolean;
  /** graphql-ws's client, or a raw-socket client that reads messages without parsing most of them (see subscribers.worker.ts). */
  readonly client: 'graphql-ws' | 'light';
}

export type ToSubscribers =
  | ({ readonly type: 'subscribe' } & SubscribeSettings)
  | { readonly type: 'results'; readonly commitTimes: Float64Array; readonly drainMs: number; readonly measuredFrom: number }
  | { readonly type: 'unsubscribe' }
  | { readonly type: 'close' };

/** What one run's subscribers saw. Latencies are receipt minus commit, in ms; p50/p95/p99/max over the measured events (after the warm-up). */
export interface RunReceipts {
  /** Committed detections × subscribers. */
  readonly expected: number;
  readonly delivered: number;
  readonly missing: number;
  readonly duplicates: number;
  /** Events with errors, or (when checked) with a reference that did not resolve. */
  readonly incomplete: number;
  /** Receipts timed before the committing thread saw their COMMIT answered (a clock check: should be 0). */
  readonly early: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** When the last measured event arrived (NaN when none did). */
  readonly lastReceipt: number;
  /** Sockets closed on the subscribers other than by their own dispose. */
  readonly unexpectedCloses: number;
  readonly errorSamples: readonly string[];
  /** The subscribing thread's event-loop utilization during the run (0..1) and its heap at the end. */
  readonly eventLoopUtilization: number;
  readonly heapUsedBytes: number;
  /** Every measured latency (ms), ascending, for merging the threads' percentiles: detections from `measuredFrom` on. */
  readonly latencies: Float64Array;
  /** The latencies of the warm-up's detections (before `measuredFrom`), ascending: delivered and checked, left out of the percentiles. */
  readonly warmUpLatencies: Float64Array;
}

export type FromSubscribers =
  | { readonly type: 'subscribed'; readonly ms: number }
  | { readonly type: 'live' }
  | { readonly type: 'results'; readonly receipts: RunReceipts }
  | { readonly type: 'unsubscribed' }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };

/** The gateway worker's workerData: its configuration's environment and the subgraphs it federates. */
export interface GatewayWorkerData {
  readonly env: Record<string, string>;
  readonly supergraphPath: string;
  readonly subgraphUrls: Record<string, string>;
}

export type ToGateway =
  | { readonly type: 'stats' }
  | { readonly type: 'watch' }
  | { readonly type: 'watched' }
  | { readonly type: 'memory' }
  | { readonly type: 'close' };

export type FromGateway =
  | { readonly type: 'ready'; readonly url: string }
  | { readonly type: 'stats'; readonly upstreams: number; readonly subscribers: number; readonly subgraphRequests: number }
  | { readonly type: 'watching' }
  | { readonly type: 'watched'; readonly watch: ThreadWatch }
  | { readonly type: 'memory'; readonly memory: ThreadMemory }
  | { readonly type: 'closed' }
  | { readonly type: 'failed'; readonly message: string };
