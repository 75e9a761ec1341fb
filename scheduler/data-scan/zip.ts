import { unzipSync, type UnzipFileInfo } from 'fflate';
import { ExtractionRefused, formatBytes, RATIO_GRACE_BYTES, type ExtractionLimits } from './limits.js';

/** What is left to spend on one file's archives, shared by the archives nested in it. */
export interface ArchiveBudget {
  entries: number;
  expandedBytes: number;
}

export function archiveBudget(limits: ExtractionLimits): ArchiveBudget {
  return { entries: limits.maxEntries, expandedBytes: limits.maxExpandedBytes };
}

/** One entry read from an archive. */
export interface ZipEntry {
  readonly name: string;
  readonly bytes: Uint8Array;
}

// Stored and deflated entries (APPNOTE 4.4.5): what fflate reads and nearly every archive uses. Others
// (bzip2, LZMA, zstd, AES-encrypted) are left unread rather than failing the archive.
const STORED = 0;
const DEFLATED = 8;

/** ZIP's local file header signature, "PK\x03\x04": how an archive (or an office document) starts. */
export function isZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}

/** Runs fflate over the central directory; its own errors become "not a readable ZIP archive". */
function unzip(bytes: Uint8Array, filter: (file: UnzipFileInfo) => boolean): Record<string, Uint8Array> {
  try {
    return unzipSync(bytes, { filter });
  } catch (error) {
    if (error instanceof ExtractionRefused) throw error;
    throw new ExtractionRefused(`not a readable ZIP archive (${(error as Error).message})`);
  }
}

/**
 * The names of an archive's entries, from its central directory, each counted against `budget.entries`.
 * Throws {@link ExtractionRefused} past `limits.maxEntries` or when the archive cannot be read.
 */
export function listZip(bytes: Uint8Array, budget: ArchiveBudget, limits: ExtractionLimits): string[] {
  const names: string[] = [];
  unzip(bytes, (file) => {
    if (--budget.entries < 0) throw new ExtractionRefused(`archive holds more than ${limits.maxEntries} entries`);
    names.push(file.name);
    return false;
  });
  return names;
}

/**
 * Reads the entries `wanted` picks, checking each one's declared sizes before a byte is inflated: an entry
 * over `limits.maxRatio` times its compressed size (past 4 MiB), or that would take the archive past
 * `limits.maxExpandedBytes` (with the archives around it, through `budget`), refuses the whole file. An
 * entry cannot grow past its declared size: fflate inflates into a buffer of that size and stops there.
 * Entries of other compression methods than stored and deflated are not read.
 */
export function readZip(bytes: Uint8Array, wanted: (name: string) => boolean, budget: ArchiveBudget, limits: ExtractionLimits): ZipEntry[] {
  const files = unzip(bytes, (file) => {
    if (!wanted(file.name) || (file.compression !== STORED && file.compression !== DEFLATED)) return false;
    const expanded = file.compression === STORED ? file.size : file.originalSize;
    if (expanded > RATIO_GRACE_BYTES && expanded > limits.maxRatio * Math.max(file.size, 1)) {
      throw new ExtractionRefused(
        `archive entry "${file.name}" expands ${Math.round(expanded / Math.max(file.size, 1))} times (more than ${limits.maxRatio})`,
      );
    }
    if (expanded > budget.expandedBytes) throw new ExtractionRefused(`archive expands beyond ${formatBytes(limits.maxExpandedBytes)}`);
    budget.expandedBytes -= expanded;
    return true;
  });
  return Object.entries(files).map(([name, entryBytes]) => ({ name, bytes: entryBytes }));
}
