// How busy a thread of `npm run bench:subscriptions` was while detections were committed and delivered.
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';

/** A thread's event-loop utilization (0..1), how late its loop ran timers (ms) and its garbage collector's pauses (ms). */
export interface ThreadWatch {
  readonly loop: number;
  /** Milliseconds the loop was busy. */
  readonly activeMs: number;
  readonly loopDelayP99: number;
  readonly loopDelayMax: number;
  readonly gcCount: number;
  readonly gcTotal: number;
  readonly gcMax: number;
  readonly heapUsed: number;
}

/** The loop-delay timer's period (ms): the histogram records each period as it ran, so it is taken off. */
const RESOLUTION_MS = 10;

/** Starts watching the calling thread; the answer stops watching and reports. */
export function watchThread(): () => ThreadWatch {
  const loopBefore = performance.eventLoopUtilization();
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  let gcCount = 0;
  let gcTotal = 0;
  let gcMax = 0;
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gcCount += 1;
      gcTotal += entry.duration;
      gcMax = Math.max(gcMax, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => {
    delay.disable();
    observer.disconnect();
    const { utilization, active } = performance.eventLoopUtilization(loopBefore);
    return {
      loop: utilization,
      activeMs: active,
      loopDelayP99: Math.max(0, delay.percentile(99) / 1e6 - RESOLUTION_MS),
      loopDelayMax: Math.max(0, delay.max / 1e6 - RESOLUTION_MS),
      gcCount,
      gcTotal,
      gcMax,
      heapUsed: process.memoryUsage().heapUsed,
    };
  };
}
