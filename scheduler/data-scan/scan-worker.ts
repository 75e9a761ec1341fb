// A data scan worker thread (started by DataScanPool): extracts each file it is sent and runs the
// detectors (and the FILE policies' content rules sent with it) over the text, answering match counts
// or the reason the file was skipped. Never the text.
import { parentPort, workerData } from 'node:worker_threads';
import { countRules } from './content-match.js';
import { extractFile } from './extract-file.js';
import type { ExtractionLimits } from './limits.js';
import type { ScanReply, ScanRequest } from './pool.js';
import { scanText } from './scan.js';

const port = parentPort;
if (!port) throw new Error('scan-worker.ts runs as a worker thread of DataScanPool');
const limits = (workerData as { limits: ExtractionLimits }).limits;

async function scan(request: ScanRequest): Promise<ScanReply> {
  try {
    const extraction = await extractFile(new Uint8Array(request.content), request.mimeType, request.name, limits);
    if (extraction.status !== 'text') return { id: request.id, result: { status: 'skipped', reason: extraction.reason } };
    const matches = scanText(extraction.text);
    const rules = request.rules ?? [];
    return {
      id: request.id,
      result:
        rules.length > 0 ? { status: 'scanned', matches, ruleMatches: countRules(rules, extraction.text) } : { status: 'scanned', matches },
    };
  } catch (error) {
    return { id: request.id, result: { status: 'skipped', reason: `could not be scanned (${(error as Error).message})` } };
  }
}

port.on('message', (request: ScanRequest) => {
  void scan(request).then((reply) => port.postMessage(reply));
});
port.postMessage({ ready: true });
