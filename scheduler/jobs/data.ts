import type { Connector } from '../../connectors/contract.js';
import { eachConcurrently } from '../../platform/concurrency.js';
import { logger } from '../../platform/logger.js';
import { DataScanPoolClosedError } from '../data-scan/pool.js';
import type { ContentRuleSet } from '../policies/content-rules.js';
import type { SchedulerServices } from '../services.js';
import { itemRefusal } from './refusals.js';
import type { ScanOutcome, ScanRun } from './scan-run.js';

/** Files scanned per batch before the stop flag is looked at again. */
const BATCH = 20;

/**
 * Files of a batch in flight at once: one file's download overlaps the others' turns in the worker
 * pool and their statements, so a generous provider limit is spent (bench/README.md, bench:scan).
 * Their downloads go one at a time: the data scan then waits for the rate budget as one request, and
 * under a tight limit it shares the budget with the audit backfill evenly instead of outnumbering it.
 */
const FILES_AT_ONCE = 4;

/**
 * The data scan: every live file whose content changed since it was last scanned (or never was), or
 * that was last scanned under other content rules of the FILE policies (their digest is stored on the
 * file), is downloaded and run through the sensitive-information detectors and those rules; only
 * counts are stored. State lives on the files themselves, so there is no cursor to lose.
 */
/** What a data scan reads and writes. */
type DataScanServices = Pick<SchedulerServices, 'files' | 'evaluator' | 'dataScan'>;

export async function scanData(run: ScanRun<null>, services: DataScanServices): Promise<ScanOutcome> {
  let items = 0;
  const files = services.files();
  let downloading: Promise<unknown> = Promise.resolve();
  const downloads: FileSource = {
    downloadFile: (externalId) => {
      const download = downloading.then(() => run.connector.downloadFile(externalId));
      downloading = download.catch(() => undefined);
      return download;
    },
  };
  for (;;) {
    // Read again per batch: a policy changed during a long run applies from the next batch on.
    const rules = await services.evaluator().contentRules(run.instanceId);
    const batch = await files.filesToScan(run.instanceId, BATCH, rules.hash);
    if (batch.length === 0) return { status: 'done', items };
    try {
      await eachConcurrently(batch, FILES_AT_ONCE, async (file) => {
        const result = await scanOneFile(services, downloads, file, run.instanceId, rules);
        if (result.status === 'skipped') await run.skipped?.(result.reason, result.refusedStatus);
        items += 1;
      });
    } catch (error) {
      // The scheduler stopped under a file: it stays unscanned, and the next run takes it.
      if (error instanceof DataScanPoolClosedError) return { status: 'paused', items };
      throw error;
    }
    await run.save(null, items);
    if (run.stopping()) return { status: 'paused', items };
  }
}

/**
 * Downloads one file, scans it in the data scan's worker threads (with the FILE policies' content
 * `rules`; read when not given), runs the result through the FILE policies and stores its match counts
 * (never its content) with the rules' digest. A file over a budget or unreadable is
 * stored as scanned with no matches and the reason it was skipped, so that it is not retried until its
 * content changes; so is a file the provider refuses (403, 413, 415...). A file gone at the provider
 * (404, 410) is marked deleted. Answers whether it was read or skipped, and why.
 */
export async function scanOneFile(
  services: DataScanServices,
  connector: FileSource,
  file: { id: string; externalId: string; contentVersion: string | null; name?: string },
  instanceId: string,
  rules?: ContentRuleSet,
): Promise<FileScanResult> {
  const files = services.files();
  const { specs, hash: rulesHash } = rules ?? (await services.evaluator().contentRules(instanceId));
  try {
    const content = await connector.downloadFile(file.externalId);
    const scan = await services.dataScan.scan(content.bytes, content.mimeType, file.name, specs);
    const matches = scan.status === 'scanned' ? scan.matches : [];
    const ruleMatches = scan.status === 'scanned' ? (scan.ruleMatches ?? []) : [];
    if (scan.status === 'skipped') logger.info({ instanceId, fileId: file.id, reason: scan.reason }, 'data scan skipped a file');
    // Evaluated before it is recorded: a crash in between rescans the file, and detections record each state once.
    await services.evaluator().evaluateFiles(instanceId, [file.id], new Map([[file.id, matches]]), new Map([[file.id, ruleMatches]]));
    await files.recordScan(file.id, matches, file.contentVersion, {
      skippedReason: scan.status === 'skipped' ? scan.reason : null,
      ruleMatches,
      rulesHash,
    });
    return scan.status === 'skipped' ? { status: 'skipped', reason: scan.reason } : { status: 'scanned' };
  } catch (error) {
    // The provider would not give this file: it is skipped (or marked deleted when gone), the run goes on.
    const refusal = itemRefusal(error, 'file');
    if (!refusal) throw error;
    if (refusal.gone) await files.markDeleted(instanceId, [file.externalId]);
    else await files.recordScan(file.id, [], file.contentVersion, { skippedReason: refusal.reason, rulesHash });
    return { status: 'skipped', reason: refusal.reason, ...(refusal.status !== undefined ? { refusedStatus: refusal.status } : {}) };
  }
}

/** Where a data scan downloads files from: the instance's connector. */
export type FileSource = Pick<Connector, 'downloadFile'>;

/** How one file's data scan ended: read, or skipped with why (and the provider's status when it refused the file). */
export type FileScanResult =
  { readonly status: 'scanned' } | { readonly status: 'skipped'; readonly reason: string; readonly refusedStatus?: number };
