// The text of the XML parts of office documents (OOXML and OpenDocument), written for scanning: text nodes
// in document order, a line or a tab where a paragraph, cell or break ends, nothing of markup, comments or
// processing instructions. A DOCTYPE is skipped whole, so no entity is ever defined or expanded (no
// "billion laughs"). One pass with indexOf: linear in the input, and forgiving of malformed XML.

/** How the end of an element separates the text around it, by local name (the name after any prefix). */
const SEPARATORS = new Map<string, string>([
  // Paragraphs and headings: WordprocessingML w:p, DrawingML a:p, ODF text:p and text:h.
  ['p', '\n'],
  ['h', '\n'],
  // Line breaks and tabs inside a paragraph.
  ['br', '\n'],
  ['cr', '\n'],
  ['line-break', '\n'],
  ['tab', '\t'],
  // ODF's run of spaces (text:s) and soft page break.
  ['s', ' '],
  ['soft-page-break', '\n'],
  // Table cells and rows: WordprocessingML w:tc/w:tr, DrawingML a:tc/a:tr, ODF table:table-cell/-row,
  // SpreadsheetML's c (cell), row and si (shared string).
  ['tc', '\t'],
  ['tr', '\n'],
  ['table-cell', '\t'],
  ['covered-table-cell', '\t'],
  ['table-row', '\n'],
  ['c', '\t'],
  ['row', '\n'],
  ['si', '\n'],
  // Footnotes, comments, list items and text frames end a line too.
  ['footnote', '\n'],
  ['endnote', '\n'],
  ['comment', '\n'],
  ['list-item', '\n'],
  ['txbxContent', '\n'],
]);

const NAMED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** Decodes the five predefined entities and character references; anything else stays as written. */
export function decodeXmlEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#x[0-9A-Fa-f]{1,6}|#\d{1,7}|[a-z]{2,4});/g, (whole, ref: string) => {
    if (ref[0] !== '#') return NAMED_ENTITIES[ref] ?? whole;
    const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
    return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole;
  });
}

/** The local name of the tag starting at `at` (just after '<' or '</'), and where the name ends. */
function tagName(xml: string, at: number): string {
  let end = at;
  while (end < xml.length) {
    const c = xml.charCodeAt(end);
    // Ends at white space, '/', '>' (and never runs on through a broken tag).
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 47 || c === 62) break;
    end++;
  }
  const name = xml.slice(at, end);
  return name.slice(name.indexOf(':') + 1);
}

/** What {@link walkXml} reports, in document order. */
export interface XmlVisitor {
  /** A text node (entities decoded) or a CDATA section. */
  text(text: string): void;
  /** A start tag (also of an empty element): its local name and its whole source, for attributes. */
  open?(name: string, tag: string): void;
  /** An end tag, or the end of an empty element (`<x/>`). */
  close?(name: string): void;
}

/**
 * Walks `xml` once, reporting its text nodes and tags to `visitor`. Comments, processing instructions and
 * a DOCTYPE (internal subset included) are skipped. White space that only indents markup (a text node of
 * white space holding a line break) is not reported. Stops early when `stop()` answers true.
 */
export function walkXml(xml: string, visitor: XmlVisitor, stop: () => boolean = () => false): void {
  let at = 0;
  while (at < xml.length && !stop()) {
    const open = xml.indexOf('<', at);
    const textEnd = open === -1 ? xml.length : open;
    if (textEnd > at) {
      const text = xml.slice(at, textEnd);
      if (!(text.includes('\n') && text.trim() === '')) visitor.text(decodeXmlEntities(text));
    }
    if (open === -1) return;
    if (xml.startsWith('<!--', open)) {
      const end = xml.indexOf('-->', open + 4);
      at = end === -1 ? xml.length : end + 3;
    } else if (xml.startsWith('<![CDATA[', open)) {
      const end = xml.indexOf(']]>', open + 9);
      visitor.text(xml.slice(open + 9, end === -1 ? xml.length : end));
      at = end === -1 ? xml.length : end + 3;
    } else if (xml.startsWith('<!DOCTYPE', open)) {
      // The internal subset's brackets hold declarations, never text.
      const close = xml.indexOf('>', open);
      const subset = xml.indexOf('[', open);
      const end = subset !== -1 && subset < close ? xml.indexOf(']>', subset) : close;
      at = end === -1 ? xml.length : end + (subset !== -1 && subset < close ? 2 : 1);
    } else if (xml.startsWith('<?', open)) {
      const end = xml.indexOf('?>', open + 2);
      at = end === -1 ? xml.length : end + 2;
    } else {
      const close = tagEnd(xml, open + 1);
      if (xml[open + 1] === '/') visitor.close?.(tagName(xml, open + 2));
      else {
        const name = tagName(xml, open + 1);
        visitor.open?.(name, xml.slice(open, close + 1));
        if (xml[close - 1] === '/') visitor.close?.(name);
      }
      at = close + 1;
    }
  }
}

/**
 * Calls `write` with the text of `xml` in document order: text nodes decoded, CDATA as is, and a separator
 * (line break or tab, see above) where a paragraph, cell, row or break ends. Stops early when `stop()` answers true.
 */
export function xmlText(xml: string, write: (text: string) => void, stop?: () => boolean): void {
  walkXml(
    xml,
    {
      text: write,
      close: (name) => {
        const separator = SEPARATORS.get(name);
        if (separator) write(separator);
      },
    },
    stop,
  );
}

/** The index of the '>' that ends the tag starting at `from`, skipping quoted attribute values; the end when none. */
function tagEnd(xml: string, from: number): number {
  let quote = 0;
  for (let i = from; i < xml.length; i++) {
    const c = xml.charCodeAt(i);
    if (quote !== 0) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) quote = c;
    else if (c === 62) return i;
  }
  return xml.length;
}
