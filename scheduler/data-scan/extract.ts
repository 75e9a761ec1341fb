import { csvToText } from './csv-text.js';
import { htmlToText } from './html-text.js';
import { jsonToText } from './json-text.js';

/** How much content {@link extractText} reads by default: the first 10 MiB. */
export const DEFAULT_MAX_EXTRACT_BYTES = 10 * 1024 * 1024;

/** How much of the content to read, so that one large file cannot hold up a scan or exhaust memory. */
export interface ExtractOptions {
  /** Bytes read from the start of the content; the rest is not scanned. A positive integer; default 10 MiB. */
  readonly maxBytes?: number;
}

/** How content is turned into text. */
export enum ContentFormat {
  TEXT = 'TEXT',
  CSV = 'CSV',
  JSON = 'JSON',
  HTML = 'HTML',
  /** Read as UTF-8 when it looks like text, else nothing. */
  UNKNOWN = 'UNKNOWN',
}

const FORMAT_BY_MIME_TYPE = new Map<string, ContentFormat>([
  ['text/csv', ContentFormat.CSV],
  ['text/x-csv', ContentFormat.CSV],
  ['application/csv', ContentFormat.CSV],
  ['text/comma-separated-values', ContentFormat.CSV],
  ['text/tab-separated-values', ContentFormat.CSV],
  ['application/json', ContentFormat.JSON],
  ['text/json', ContentFormat.JSON],
  ['application/x-ndjson', ContentFormat.JSON],
  ['application/jsonl', ContentFormat.JSON],
  ['text/html', ContentFormat.HTML],
  ['application/xhtml+xml', ContentFormat.HTML],
  ['application/xml', ContentFormat.TEXT],
  ['application/javascript', ContentFormat.TEXT],
  ['application/yaml', ContentFormat.TEXT],
]);

const FORMAT_BY_EXTENSION = new Map<string, ContentFormat>([
  ['csv', ContentFormat.CSV],
  ['tsv', ContentFormat.CSV],
  ['json', ContentFormat.JSON],
  ['jsonl', ContentFormat.JSON],
  ['ndjson', ContentFormat.JSON],
  ['geojson', ContentFormat.JSON],
  ['html', ContentFormat.HTML],
  ['htm', ContentFormat.HTML],
  ['xhtml', ContentFormat.HTML],
  ['txt', ContentFormat.TEXT],
  ['log', ContentFormat.TEXT],
  ['md', ContentFormat.TEXT],
]);

interface MimeType {
  /** Type and subtype, lowercase, without parameters; '' when there is none. */
  readonly essence: string;
  readonly charset?: string;
}

function parseMimeType(mimeType: string | null): MimeType {
  if (!mimeType) return { essence: '' };
  const [essence = '', ...parameters] = mimeType.split(';');
  const charset = parameters
    .map((p) => p.trim().split('='))
    .find(([key]) => key?.trim().toLowerCase() === 'charset')?.[1]
    ?.trim()
    .replace(/^"(.*)"$/, '$1');
  return { essence: essence.trim().toLowerCase(), charset: charset || undefined };
}

function formatOfMimeType(essence: string): ContentFormat | undefined {
  const known = FORMAT_BY_MIME_TYPE.get(essence);
  if (known) return known;
  if (essence.endsWith('+json')) return ContentFormat.JSON;
  if (essence.endsWith('+xml') || essence.startsWith('text/')) return ContentFormat.TEXT;
  return undefined;
}

function formatOfName(name: string | undefined): ContentFormat | undefined {
  if (!name) return undefined;
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot === -1 ? undefined : FORMAT_BY_EXTENSION.get(base.slice(dot + 1).toLowerCase());
}

/**
 * How content with this MIME type and file name is read. A CSV, JSON or HTML MIME type wins; otherwise the
 * name's extension decides (a `.csv` sent as `text/plain` or `application/octet-stream` is still CSV); then
 * any other text MIME type; else {@link ContentFormat.UNKNOWN}.
 */
export function contentFormat(mimeType: string | null, name?: string): ContentFormat {
  const byType = formatOfMimeType(parseMimeType(mimeType).essence);
  if (byType && byType !== ContentFormat.TEXT) return byType;
  return formatOfName(name) ?? byType ?? ContentFormat.UNKNOWN;
}

/** The encoding a byte order mark announces, if the content starts with one. */
function byteOrderMark(bytes: Buffer): string | undefined {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) return 'utf-8';
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return 'utf-16le';
  if (bytes[0] === 0xfe && bytes[1] === 0xff) return 'utf-16be';
  return undefined;
}

/** Decodes by the byte order mark, else the MIME type's charset, else UTF-8; bad bytes become U+FFFD. */
function decode(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(byteOrderMark(bytes) ?? charset ?? 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes); // a charset label this runtime does not know
  }
}

/** How much of unknown content is looked at to tell text from binary. */
const SNIFF_BYTES = 8 * 1024;

/**
 * Whether content of unknown type is text: a byte order mark, or a first 8 KiB with no NUL byte that is
 * UTF-8 with at most 1 character in 20 a replacement or a control character other than tab, line breaks and escape.
 */
function looksLikeText(bytes: Buffer): boolean {
  if (byteOrderMark(bytes)) return true;
  const sample = bytes.subarray(0, SNIFF_BYTES);
  if (sample.includes(0)) return false;
  // stream: a character cut at the end of the sample is not a bad byte.
  const text = new TextDecoder('utf-8').decode(sample, { stream: true });
  let suspicious = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const control = (c < 32 && c !== 9 && c !== 10 && c !== 12 && c !== 13 && c !== 27) || c === 127;
    if (control || c === 0xfffd) suspicious++;
  }
  return suspicious * 20 <= text.length;
}

/**
 * The text of file content for scanning: plain text as is, CSV as its values, JSON as its keys, strings and
 * numbers, HTML as its visible text, and content of unknown type as UTF-8 when it looks like text, else ''.
 * The format comes from {@link contentFormat}; the charset from a byte order mark or the MIME type's
 * `charset` parameter (UTF-8 when neither).
 *
 * Bounded: only the first `options.maxBytes` bytes are read (default {@link DEFAULT_MAX_EXTRACT_BYTES},
 * 10 MiB); what lies past the cap is not scanned, and the text is at most `maxBytes` characters long.
 * Throws a RangeError when `maxBytes` is not a positive integer; never throws for any content.
 */
export function extractText(bytes: Buffer, mimeType: string | null, name?: string, options: ExtractOptions = {}): string {
  const { maxBytes = DEFAULT_MAX_EXTRACT_BYTES } = options;
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    throw new RangeError(`maxBytes must be a positive integer number of bytes, got ${maxBytes}`);
  }
  const content = bytes.length > maxBytes ? bytes.subarray(0, maxBytes) : bytes;
  const { charset } = parseMimeType(mimeType);
  const format = contentFormat(mimeType, name);
  switch (format) {
    case ContentFormat.TEXT:
      return decode(content, charset);
    case ContentFormat.CSV:
      return csvToText(decode(content, charset));
    case ContentFormat.JSON:
      return jsonToText(decode(content, charset));
    case ContentFormat.HTML:
      return htmlToText(decode(content, charset));
    case ContentFormat.UNKNOWN:
      return looksLikeText(content) ? decode(content, charset) : '';
    default: {
      const unreachable: never = format;
      throw new Error(`Unhandled content format ${String(unreachable)}`);
    }
  }
}
