const DELIMITERS = [',', '\t', ';', '|'] as const;
/** How much of the first record is read to guess the delimiter. */
const SNIFF_CHARS = 64 * 1024;

/** The delimiter of delimited text: the most frequent of `,` tab `;` `|` in its first line; `,` when none is. */
export function sniffDelimiter(text: string): string {
  const lineEnd = text.indexOf('\n');
  const line = text.slice(0, Math.min(lineEnd === -1 ? text.length : lineEnd, SNIFF_CHARS));
  let best: string = ',';
  let bestCount = 0;
  for (const delimiter of DELIMITERS) {
    const count = line.split(delimiter).length - 1;
    if (count > bestCount) [best, bestCount] = [delimiter, count];
  }
  return best;
}

/** Whether the character at `i` starts a field: the start of the text, or just after a delimiter or line break. */
function startsField(text: string, i: number, delimiter: string): boolean {
  const before = text[i - 1];
  return i === 0 || before === delimiter || before === '\n' || before === '\r';
}

/**
 * The values of CSV (RFC 4180) or other delimited text, fields separated by tabs and records by line breaks:
 * quoted fields lose their quotes and `""` becomes `"`; a quoted field may span lines. Forgiving like a
 * spreadsheet: a quote inside an unquoted field is text, and an unclosed quote runs to the end. Never throws.
 */
export function csvToText(text: string, delimiter = sniffDelimiter(text)): string {
  const parts: string[] = [];
  const unquoted = (from: number, to: number): string => {
    const chunk = text.slice(from, to);
    return delimiter === '\t' ? chunk : chunk.replaceAll(delimiter, '\t');
  };
  let i = 0;
  while (i < text.length) {
    let open = text.indexOf('"', i);
    while (open !== -1 && !startsField(text, open, delimiter)) open = text.indexOf('"', open + 1);
    if (open === -1) {
      parts.push(unquoted(i, text.length));
      break;
    }
    parts.push(unquoted(i, open));
    // A quoted field: runs to the quote not doubled; what follows it up to the delimiter stays with the text.
    let j = open + 1;
    for (;;) {
      const quote = text.indexOf('"', j);
      if (quote === -1) {
        parts.push(text.slice(j));
        j = text.length;
        break;
      }
      parts.push(text.slice(j, quote));
      if (text[quote + 1] !== '"') {
        j = quote + 1;
        break;
      }
      parts.push('"');
      j = quote + 2;
    }
    i = j;
  }
  return parts.join('');
}
