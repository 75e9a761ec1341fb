import { describe, expect, it } from 'vitest';
import { UsageRecorder, type ReportedDailyQuota } from './usage.js';

describe('UsageRecorder', () => {
  it('writes the counts with the daily quota last reported, and keeps both for the next flush when the write fails', async () => {
    const written: { instanceId: string; requests: number; throttled: number; daily?: ReportedDailyQuota }[] = [];
    let failing = true;
    const recorder = new UsageRecorder(async (instanceId, requests, throttled, _at, daily) => {
      if (failing) throw new Error('database unavailable');
      written.push({ instanceId, requests, throttled, ...(daily ? { daily } : {}) });
    }, 3_600_000);
    try {
      recorder.record('org-a', false, { used: 10, limit: 1000 });
      recorder.record('org-a', true, { used: 12, limit: 1000 });
      recorder.record('org-b', false);
      await recorder.flush();
      expect(written).toEqual([]);
      failing = false;
      recorder.record('org-b', false);
      await recorder.flush();
      expect(written).toEqual([
        { instanceId: 'org-a', requests: 2, throttled: 1, daily: { used: 12, limit: 1000 } },
        { instanceId: 'org-b', requests: 2, throttled: 0 },
      ]);
    } finally {
      await recorder.close();
    }
  });
});
