import { extractText } from './extract.js';
import { DEFAULT_EXTRACTION_LIMITS, ExtractionRefused, formatBytes, TextSink, type ExtractionLimits } from './limits.js';
import { containerKind, ContainerKind, entryRole, officeText } from './office.js';
import { isPdf, pdfText } from './pdf-text.js';
import { archiveBudget, isZip, listZip, readZip, type ArchiveBudget } from './zip.js';

/** A file's text, or why it was not read. */
export type Extraction = { readonly status: 'text'; readonly text: string } | { readonly status: 'skipped'; readonly reason: string };

/** What one extraction carries through the archives nested in the file. */
interface Walk {
  readonly sink: TextSink;
  readonly budget: ArchiveBudget;
  readonly limits: ExtractionLimits;
}

/** The bytes of `content` as a Buffer, without copying them. */
const asBuffer = (content: Uint8Array): Buffer => Buffer.from(content.buffer, content.byteOffset, content.length);

async function extractInto(
  content: Uint8Array,
  mimeType: string | null,
  name: string | undefined,
  depth: number,
  walk: Walk,
): Promise<void> {
  const { sink, limits } = walk;
  if (isZip(content)) {
    if (depth > limits.maxDepth) throw new ExtractionRefused(`archive nests deeper than ${limits.maxDepth} levels`);
    if (content.length > limits.maxInputBytes) throw new ExtractionRefused(`archive is larger than ${formatBytes(limits.maxInputBytes)}`);
    const kind = containerKind(listZip(content, walk.budget, limits));
    const entries = readZip(content, (entry) => entryRole(kind, entry) !== undefined, walk.budget, limits);
    if (kind !== ContainerKind.ZIP)
      officeText(
        kind,
        entries.filter((entry) => entryRole(kind, entry.name) === 'part'),
        sink,
      );
    for (const entry of entries) {
      if (sink.full) return;
      if (entryRole(kind, entry.name) !== 'file') continue;
      sink.breakLine();
      await extractInto(entry.bytes, null, entry.name, depth + 1, walk);
    }
    return;
  }
  if (isPdf(content)) {
    if (content.length > limits.maxInputBytes) throw new ExtractionRefused(`PDF is larger than ${formatBytes(limits.maxInputBytes)}`);
    await pdfText(content, sink);
    return;
  }
  sink.write(extractText(asBuffer(content), mimeType, name, { maxBytes: limits.maxTextChars }));
}

/**
 * The text of a file of any format the data scan reads, told by its content first (a ZIP, a PDF), then by
 * its MIME type and name: plain text, CSV, JSON, HTML (see `extractText`); PDF; DOCX, XLSX, PPTX and
 * OpenDocument files; ZIP archives, whose entries are read as files of their own, archives inside
 * archives included. At most `limits.maxTextChars` characters; what lies past them is not read.
 *
 * A file over a limit (archive expansion, entries, nesting, ratio, size) or that cannot be read (a damaged
 * archive or PDF) is `skipped` with the reason, never half-read. Never throws.
 */
export async function extractFile(
  content: Uint8Array,
  mimeType: string | null,
  name?: string,
  limits: ExtractionLimits = DEFAULT_EXTRACTION_LIMITS,
): Promise<Extraction> {
  const walk: Walk = { sink: new TextSink(limits.maxTextChars), budget: archiveBudget(limits), limits };
  try {
    await extractInto(content, mimeType, name, 1, walk);
    return { status: 'text', text: walk.sink.text() };
  } catch (error) {
    if (error instanceof ExtractionRefused) return { status: 'skipped', reason: error.message };
    return { status: 'skipped', reason: `could not be read (${error instanceof Error ? error.message : String(error)})` };
  }
}
