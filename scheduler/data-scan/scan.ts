import { DETECTORS, type Detector } from './detectors.js';
import { extractText, type ExtractOptions } from './extract.js';
import { type SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

/** How many matches of one kind of sensitive information content holds; never the matches themselves. */
export interface SensitiveMatchCount {
  readonly type: SensitiveDataType;
  readonly count: number;
}

/** Runs `detectors` (default: all of them) over text: the types found with their counts, sorted by type. */
export function scanText(text: string, detectors: readonly Detector[] = DETECTORS): SensitiveMatchCount[] {
  return detectors
    .map((detector) => ({ type: detector.type, count: detector.find(text) }))
    .filter((match) => match.count > 0)
    .sort((a, b) => (a.type < b.type ? -1 : a.type > b.type ? 1 : 0));
}

/**
 * Scans file content for sensitive information: {@link extractText} then every detector. Returns only the
 * types found (count > 0), sorted by type; an empty list for binary or empty content. Reads at most
 * `options.maxBytes` (default 10 MiB) and throws only when that option is invalid, as {@link extractText} does.
 */
export function scanContent(bytes: Buffer, mimeType: string | null, name?: string, options?: ExtractOptions): SensitiveMatchCount[] {
  return scanText(extractText(bytes, mimeType, name, options));
}
