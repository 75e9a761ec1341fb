import { DEFAULT_MAX_EXTRACT_BYTES } from './extract.js';

/** What one file's extraction may take; past a limit the file is skipped with the reason, never half-read. */
export interface ExtractionLimits {
  /** Characters of text handed to the detectors; the rest is not scanned. Default 10 MiB. */
  readonly maxTextChars: number;
  /** A PDF or an archive larger than this is skipped (a text file is read up to `maxTextChars`). Default 100 MiB. */
  readonly maxInputBytes: number;
  /** Bytes an archive may expand to, nested archives and office documents' parts included. Default 100 MiB. */
  readonly maxExpandedBytes: number;
  /** Entries an archive may list, nested ones included. Default 10,000. */
  readonly maxEntries: number;
  /** Archives inside archives: a ZIP in a ZIP is depth 2. Default 3. */
  readonly maxDepth: number;
  /** An entry larger than 4 MiB may be at most this many times its compressed size. Default 100. */
  readonly maxRatio: number;
}

const MIB = 1024 * 1024;

// The ratio is Apache POI's (ZipSecureFile.MIN_INFLATE_RATIO 0.01). POI applies it past 100 kB; here past
// 4 MiB, as repetitive documents' XML parts compress more than 100 times (bench/README.md, bench:datascan):
// the expansion budget is what bounds a bomb, the ratio only refuses one early by name.
export const DEFAULT_EXTRACTION_LIMITS: ExtractionLimits = {
  maxTextChars: DEFAULT_MAX_EXTRACT_BYTES,
  maxInputBytes: 100 * MIB,
  maxExpandedBytes: 100 * MIB,
  maxEntries: 10_000,
  maxDepth: 3,
  maxRatio: 100,
};

/** Entries up to this size are not held to `maxRatio`: documents of repeated rows compress that well, harmlessly. */
export const RATIO_GRACE_BYTES = 4 * MIB;

/** A file that is not extracted because it is over a limit or unreadable; `message` is the reason, for people. */
export class ExtractionRefused extends Error {
  override readonly name = 'ExtractionRefused';
}

/** A byte count as people read it: "100 MiB", "512 KiB", "12 bytes". */
export function formatBytes(bytes: number): string {
  if (bytes >= MIB && bytes % MIB === 0) return `${bytes / MIB} MiB`;
  if (bytes >= MIB) return `${(bytes / MIB).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KiB`;
  return `${bytes} bytes`;
}

/** Text collected up to a number of characters; what comes after is dropped, and `full` says so. */
export class TextSink {
  private readonly parts: string[] = [];
  private length = 0;

  constructor(private readonly maxChars: number) {}

  get full(): boolean {
    return this.length >= this.maxChars;
  }

  /** Appends `text`, cut at the limit. */
  write(text: string): void {
    if (this.full || text.length === 0) return;
    const room = this.maxChars - this.length;
    const part = text.length > room ? text.slice(0, room) : text;
    this.parts.push(part);
    this.length += part.length;
  }

  /** Ends what was written so far with a line break, so that the next document never runs into it. */
  breakLine(): void {
    if (this.length > 0 && this.parts[this.parts.length - 1]?.endsWith('\n') === false) this.write('\n');
  }

  text(): string {
    return this.parts.join('');
  }
}
