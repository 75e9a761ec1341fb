// A forgiving HTML-to-text pass written for scanning, not rendering: it follows the HTML tokenizer only as far
// as finding text needs (comments, quoted attribute values, script and style content), and it never
// backtracks, so its time is linear in the input whatever the markup.

// Their content is code, not text a person reads.
const SKIPPED_CONTENT = new Set(['script', 'style']);

// Phrasing elements: text on either side runs together (`<b>4111</b>1111`). Every other tag ends a line, so
// cells and paragraphs never join into one longer word or number.
const INLINE = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'cite',
  'code',
  'data',
  'dfn',
  'em',
  'font',
  'i',
  'img',
  'kbd',
  'label',
  'mark',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strike',
  'strong',
  'sub',
  'sup',
  'time',
  'tt',
  'u',
  'var',
  'wbr',
]);

// Named character references that matter for what the detectors look for (ASCII punctuation people use to
// hide addresses and numbers) and the common typographic ones. Others stay as written; the full table has
// over 2,000 names (https://html.spec.whatwg.org/multipage/named-characters.html).
const NAMED_REFERENCES = new Map<string, string>([
  ['amp', '&'],
  ['AMP', '&'],
  ['lt', '<'],
  ['LT', '<'],
  ['gt', '>'],
  ['GT', '>'],
  ['quot', '"'],
  ['QUOT', '"'],
  ['apos', "'"],
  ['nbsp', '\u00a0'],
  ['excl', '!'],
  ['num', '#'],
  ['dollar', '$'],
  ['percnt', '%'],
  ['lpar', '('],
  ['rpar', ')'],
  ['ast', '*'],
  ['plus', '+'],
  ['comma', ','],
  ['period', '.'],
  ['sol', '/'],
  ['colon', ':'],
  ['semi', ';'],
  ['equals', '='],
  ['quest', '?'],
  ['commat', '@'],
  ['lsqb', '['],
  ['bsol', '\\'],
  ['rsqb', ']'],
  ['lowbar', '_'],
  ['grave', '`'],
  ['lcub', '{'],
  ['verbar', '|'],
  ['vert', '|'],
  ['rcub', '}'],
  ['Tab', '\t'],
  ['NewLine', '\n'],
  ['hyphen', '\u2010'],
  ['dash', '\u2010'],
  ['minus', '\u2212'],
  ['ndash', '\u2013'],
  ['mdash', '\u2014'],
  ['shy', '\u00ad'],
  ['ZeroWidthSpace', '\u200b'],
  ['zwnj', '\u200c'],
  ['zwj', '\u200d'],
  ['copy', '\u00a9'],
  ['reg', '\u00ae'],
  ['trade', '\u2122'],
  ['hellip', '\u2026'],
  ['lsquo', '\u2018'],
  ['rsquo', '\u2019'],
  ['ldquo', '\u201c'],
  ['rdquo', '\u201d'],
  ['laquo', '\u00ab'],
  ['raquo', '\u00bb'],
  ['bull', '\u2022'],
  ['middot', '\u00b7'],
  ['sect', '\u00a7'],
  ['para', '\u00b6'],
  ['deg', '\u00b0'],
  ['euro', '\u20ac'],
  ['pound', '\u00a3'],
  ['yen', '\u00a5'],
  ['cent', '\u00a2'],
  ['times', '\u00d7'],
  ['divide', '\u00f7'],
  ['plusmn', '\u00b1'],
]);
// The legacy names a browser also decodes without the closing ';'.
const WITHOUT_SEMICOLON = new Set(['amp', 'AMP', 'lt', 'LT', 'gt', 'GT', 'quot', 'QUOT', 'nbsp', 'copy', 'reg']);

const CHARACTER_REFERENCE = /&(?:#(\d{1,7})|#[xX]([0-9A-Fa-f]{1,6})|([A-Za-z][A-Za-z0-9]{1,31}))(;?)/g;

function fromCodePoint(codePoint: number): string {
  const invalid = codePoint === 0 || codePoint > 0x10ffff || (codePoint >= 0xd800 && codePoint <= 0xdfff);
  return String.fromCodePoint(invalid ? 0xfffd : codePoint);
}

/** Decodes numeric character references and the named ones in {@link NAMED_REFERENCES}. */
export function decodeCharacterReferences(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (whole, decimal?: string, hex?: string, name?: string, semicolon?: string) => {
    if (decimal !== undefined) return fromCodePoint(Number.parseInt(decimal, 10));
    if (hex !== undefined) return fromCodePoint(Number.parseInt(hex, 16));
    const decoded = NAMED_REFERENCES.get(name ?? '');
    return decoded !== undefined && (semicolon || WITHOUT_SEMICOLON.has(name ?? '')) ? decoded : whole;
  });
}

const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 10 || c === 12 || c === 13;
const isLetter = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);

/** The index just past the `>` that closes the tag whose attributes start at `from`; quoted values may hold `>`. */
function tagEnd(html: string, from: number): number {
  let afterEquals = false;
  for (let i = from; i < html.length; i++) {
    const c = html.charCodeAt(i);
    if (c === 62 /* > */) return i + 1;
    if ((c === 34 /* " */ || c === 39) /* ' */ && afterEquals) {
      const close = html.indexOf(html[i]!, i + 1);
      if (close === -1) return html.length;
      i = close;
      afterEquals = false;
    } else if (c === 61 /* = */) {
      afterEquals = true;
    } else if (!isSpace(c)) {
      afterEquals = false;
    }
  }
  return html.length;
}

interface Markup {
  /** Where the text after the markup starts. */
  readonly end: number;
  /** What the markup leaves in the text: nothing, a line break, or a `<` that was text. */
  readonly text: string;
}

/** Reads the markup that starts with the `<` at `start`. */
function readMarkup(html: string, start: number, closers: Map<string, RegExp>): Markup {
  if (html.startsWith('<!--', start)) {
    const close = html.indexOf('-->', start + 4);
    return { end: close === -1 ? html.length : close + 3, text: '' };
  }
  const next = html.charCodeAt(start + 1);
  if (next === 33 /* ! */ || next === 63 /* ? */) {
    // DOCTYPE, CDATA section or processing instruction: none of it is text.
    const close = html.indexOf('>', start + 2);
    return { end: close === -1 ? html.length : close + 1, text: '' };
  }
  const isEndTag = next === 47; /* / */
  const nameStart = isEndTag ? start + 2 : start + 1;
  if (!isLetter(html.charCodeAt(nameStart))) return { end: start + 1, text: '<' };

  let nameEnd = nameStart;
  while (nameEnd < html.length) {
    const c = html.charCodeAt(nameEnd);
    if (isSpace(c) || c === 47 || c === 62) break;
    nameEnd++;
  }
  const name = html.slice(nameStart, nameEnd).toLowerCase();
  const end = tagEnd(html, nameEnd);
  const text = INLINE.has(name) ? '' : '\n';
  if (isEndTag || !SKIPPED_CONTENT.has(name)) return { end, text };

  // Script or style content runs to its end tag, whatever it holds.
  let closer = closers.get(name);
  if (!closer) closers.set(name, (closer = new RegExp(`</${name}[\\s/>]`, 'gi')));
  closer.lastIndex = end;
  const close = closer.exec(html);
  return { end: close ? tagEnd(html, close.index + 2 + name.length) : html.length, text };
}

/**
 * The text of an HTML document or fragment: tags, comments, and script and style content removed, character
 * references decoded, non-breaking spaces turned into spaces. Block-level tags become line breaks; attribute
 * values are not text and are left out. Never throws.
 */
export function htmlToText(html: string): string {
  const parts: string[] = [];
  const closers = new Map<string, RegExp>();
  let i = 0;
  while (i < html.length) {
    const open = html.indexOf('<', i);
    const textEnd = open === -1 ? html.length : open;
    if (textEnd > i) parts.push(decodeCharacterReferences(html.slice(i, textEnd)));
    if (open === -1) break;
    const markup = readMarkup(html, open, closers);
    parts.push(markup.text);
    i = markup.end;
  }
  return parts.join('').replaceAll('\u00a0', ' ');
}
