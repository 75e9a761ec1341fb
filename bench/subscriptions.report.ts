// What `npm run bench:subscriptions` prints: one row per path, notes on what each run held and used,
// the gateway/direct ratios and the verdicts against the target.
import type { PooledReceipts } from './subscriber-threads.js';
import type { CommitRun } from './subscriptions.protocol.js';
import type { ThreadMemory } from './thread-memory.js';
import type { ThreadWatch } from './thread-watch.js';

/** One size of a run: subscribers, and detections committed per second. */
export interface Size {
  readonly subscribers: number;
  readonly rate: number;
}

export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
}

/** What one path measured. */
export interface PathReport {
  readonly name: 'gateway' | 'direct';
  readonly size: Size;
  readonly subscribeMs: number;
  /** What the servers held while subscribed. */
  readonly holding: string;
  readonly commits: CommitRun;
  /** Seconds of commits at the rate before the measured ones. */
  readonly warmUpSeconds: number;
  /** When the first measured detection's COMMIT was answered. */
  readonly firstCommit: number;
  readonly receipts: PooledReceipts;
  /** The process's RSS and the main thread's heap with nobody subscribed, and right after the run (the gateway thread's heap is in `threads`). */
  readonly before: Memory;
  readonly after: Memory;
  /** The serving threads (gateway, subgraphs) while committing and draining: loop utilization, delays, GC pauses. */
  readonly threads: readonly { readonly name: string; readonly watch: ThreadWatch }[];
  /** This process's and the whole machine's share of all cores over the same time. */
  readonly cpu: { readonly process: number; readonly machine: number };
  /** Requests the gateway sent to subgraphs meanwhile (its per-event entity fetches), when on the path. */
  readonly subgraphRequests?: number;
  /** The gateway thread's memory after a full GC with nobody subscribed, and with every subscriber live (before the commits). */
  readonly gatewayMemory?: { readonly before: ThreadMemory; readonly live: ThreadMemory };
}

/** Bytes of the gateway thread's heap and external memory each subscriber added, after a full GC (NaN without a measure). */
export function gatewayBytesPerSubscriber(report: PathReport): { heap: number; external: number } {
  const memory = report.gatewayMemory;
  if (!memory) return { heap: Number.NaN, external: Number.NaN };
  const per = (pick: (m: ThreadMemory) => number) => (pick(memory.live) - pick(memory.before)) / report.size.subscribers;
  return { heap: per((m) => m.heapUsed), external: per((m) => m.external) };
}

export const kb = (bytes: number) => (Number.isNaN(bytes) ? 'n/a' : `${(bytes / 1024).toFixed(1)} KB`);

/** Delivered events per second, from the first commit to the last receipt. */
const throughput = (r: PathReport) => r.receipts.delivered / ((r.receipts.lastReceipt - r.firstCommit) / 1000);
const committedOf = (c: CommitRun) => c.commitTimes.length - c.failures;
const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const pct = (share: number) => `${(share * 100).toFixed(0)}%`;
const ms = (value: number) => (Number.isNaN(value) ? 'n/a' : value.toFixed(1));
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `${(a / b).toFixed(2)}x` : 'n/a');
const columns = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(8) : c.padStart(i === 1 ? 21 : 9))).join(' ');

/** Whether a path lost, repeated or mangled nothing and every planned detection was committed. */
const complete = ({ receipts: r, commits }: PathReport) =>
  commits.failures === 0 &&
  r.delivered === r.expected &&
  r.missing === 0 &&
  r.duplicates === 0 &&
  r.incomplete === 0 &&
  r.unexpectedCloses === 0;

function notes(report: PathReport): string[] {
  const { commits: c, receipts: r, cpu } = report;
  const committed = committedOf(c);
  const requests =
    report.subgraphRequests === undefined
      ? ''
      : `; the gateway sent ${report.subgraphRequests} subgraph requests (${(report.subgraphRequests / Math.max(1, committed)).toFixed(2)} per event)`;
  return [
    `${report.name}: ${report.holding}; ${r.expected / Math.max(1, committed)} subscribers connected and subscribed in ${(report.subscribeMs / 1000).toFixed(1)} s.`,
    `  committed ${committed} of ${c.commitTimes.length} in ${c.seconds.toFixed(1)} s (${(committed / c.seconds).toFixed(1)}/s, furthest behind schedule ${ms(c.maxLagMs)} ms${c.failures ? `, ${c.failures} failed: ${c.errorSamples.join('; ')}` : ''})${requests}.`,
    `  memory: RSS ${mb(report.before.rss)} before subscribing, ${mb(report.after.rss)} after the run; main-thread heap ${mb(report.before.heapUsed)} -> ${mb(report.after.heapUsed)}.`,
    `  CPU (share of all cores): this process ${pct(cpu.process)}, the whole machine ${pct(cpu.machine)}; event-loop utilization of the subscribers' thread${r.threadLoops.length > 1 ? 's' : ''} ${r.threadLoops.map(pct).join(', ')} (heap ${mb(r.heapUsedBytes)}).`,
    ...(report.gatewayMemory
      ? [
          (({ heap, external }) =>
            `  gateway thread memory per subscriber (after a full GC, subscribers live, before the commits): heap ${kb(heap)}, external ${kb(external)}.`)(
            gatewayBytesPerSubscriber(report),
          ),
        ]
      : []),
    ...(r.warmUp.count
      ? [
          `  warm-up: the first ${report.warmUpSeconds} s of commits (${r.warmUp.count} receipts) are delivered and checked like the rest and left out of the percentiles: p50 ${ms(r.warmUp.p50)} ms, p99 ${ms(r.warmUp.p99)} ms, max ${ms(r.warmUp.max)} ms.`,
        ]
      : []),
    ...report.threads.map(
      ({ name, watch: w }) =>
        `  ${name}: event-loop utilization ${pct(w.loop)}, loop delay p99 ${ms(w.loopDelayP99)} ms (max ${ms(w.loopDelayMax)}); ${w.gcCount} GC pauses, ${ms(w.gcTotal)} ms in all, the longest ${ms(w.gcMax)} ms; heap ${mb(w.heapUsed)}.`,
    ),
    ...(r.early ? [`  ${r.early} receipts were timed before their COMMIT was answered (counted with their negative latency).`] : []),
    ...(r.unexpectedCloses ? [`  ${r.unexpectedCloses} sockets were closed on the subscribers.`] : []),
    ...r.errorSamples.map((sample) => `  sample: ${sample}`),
  ];
}

/** Prints the table, the notes, the ratios and the verdicts; answers the exit code (1 when the gateway path, or the only path run, is not complete). */
export function printReport(
  reports: readonly PathReport[],
  {
    p99TargetMs,
    drainSeconds,
    peakRssBytes,
    loadAverage,
  }: { p99TargetMs: number; drainSeconds: number; peakRssBytes: number; loadAverage: readonly number[] },
): number {
  const rows = [columns(['path', 'delivered / expected', 'missing', 'dup', 'bad', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'events/s'])];
  for (const report of reports) {
    const r = report.receipts;
    rows.push(
      columns([
        report.name,
        `${r.delivered} / ${r.expected}`,
        String(r.missing),
        String(r.duplicates),
        String(r.incomplete),
        ms(r.p50),
        ms(r.p95),
        ms(r.p99),
        ms(r.max),
        throughput(report).toFixed(0),
      ]),
    );
  }
  const gateway = reports.find((r) => r.name === 'gateway');
  const direct = reports.find((r) => r.name === 'direct');
  const ratios =
    gateway && direct
      ? [
          `gateway/direct: p50 ${ratio(gateway.receipts.p50, direct.receipts.p50)}, p99 ${ratio(gateway.receipts.p99, direct.receipts.p99)}, throughput ${ratio(throughput(gateway), throughput(direct))}` +
            ' (latency above 1x: the gateway is slower; throughput below 1x: it delivers less).',
        ]
      : [];
  // The gateway is what is judged; the direct path is the baseline (judged only when run alone).
  const judged = gateway ? [gateway] : reports;
  const verdicts = reports.map((r) => {
    const role = judged.includes(r) ? '' : ' (baseline, not in the exit status)';
    const late = r.receipts.missing ? ` (${r.receipts.missing} events had not arrived ${drainSeconds} s after the last commit)` : '';
    const p99 = Number.isNaN(r.receipts.p99)
      ? 'no measured event arrived'
      : `p99 ${ms(r.receipts.p99)} ms ${r.receipts.p99 < p99TargetMs ? '<' : '>='} ${p99TargetMs} ms target`;
    return `${r.name}${role}: ${complete(r) ? 'nothing lost, repeated or incomplete' : `NOT COMPLETE${late}`}; ${p99}.`;
  });
  console.log(
    [
      '',
      ...rows,
      '',
      ...reports.flatMap(notes),
      '',
      ...ratios,
      ...verdicts,
      `Process peak RSS ${mb(peakRssBytes)}: one process holds the gateway, the subgraphs, the committer and the subscribers (PostgreSQL excluded). Load average at the end: ${loadAverage.map((l) => l.toFixed(2)).join(' ')}.`,
      'Latency: from the committing thread seeing COMMIT answered to the subscribing thread receiving the event (one monotonic clock). bad: events with errors or an unresolved reference.',
    ].join('\n'),
  );
  return judged.every(complete) ? 0 : 1;
}

/**
 * One row per size and path, to read how the cost grows with the subscribers: delivered messages per
 * second, latency, the gateway thread's busy time per 1,000 messages and its memory per subscriber.
 */
export function printSizes(reports: readonly PathReport[]): void {
  const cells = (c: readonly string[]) => c.map((cell, i) => (i === 0 ? cell.padEnd(8) : cell.padStart(i === 1 ? 17 : 11))).join(' ');
  const rows = [
    cells(['path', 'subscribers x /s', 'messages/s', 'complete', 'p50 ms', 'p99 ms', 'gw busy', 'gw ms/1k msg', 'gw heap/sub']),
  ];
  for (const report of reports) {
    const gateway = report.threads.find((t) => t.name.startsWith('gateway'))?.watch;
    const busyPer1k = gateway ? (gateway.activeMs / Math.max(1, report.receipts.delivered)) * 1000 : Number.NaN;
    rows.push(
      cells([
        report.name,
        `${report.size.subscribers} x ${report.size.rate}`,
        throughput(report).toFixed(0),
        complete(report) ? 'yes' : 'NO',
        ms(report.receipts.p50),
        ms(report.receipts.p99),
        gateway ? pct(gateway.loop) : 'n/a',
        ms(busyPer1k),
        kb(gatewayBytesPerSubscriber(report).heap),
      ]),
    );
  }
  console.log(
    [
      '',
      "Sizes (gw busy: the gateway thread's event-loop utilization while committing and draining; gw ms/1k msg: its busy time per 1,000 messages delivered; gw heap/sub: its heap per live subscriber after a full GC, the first size's with what the gateway keeps once for all, such as the operation's plan; --idle measures it alone):",
      ...rows,
    ].join('\n'),
  );
}
