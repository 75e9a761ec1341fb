// A token pass rather than JSON.parse: numbers keep every digit (JSON.parse rounds past 2^53, and a 16–19
// digit card number stored as a number is exactly what must be found), nesting depth costs no stack, and
// JSON Lines, a document cut at the size cap, or text mislabelled as JSON still give up their text.

const STRUCTURE = /[{}[\],:]/g;

/** The index of the `"` that closes the string whose content starts at `from`, or -1 when it never closes. */
function closingQuote(text: string, from: number): number {
  for (let quote = text.indexOf('"', from); quote !== -1; quote = text.indexOf('"', quote + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 92 /* \ */) backslashes++;
    if (backslashes % 2 === 0) return quote;
  }
  return -1;
}

/** A JSON string literal's value; its raw content when the escapes are not valid JSON. */
function stringValue(literal: string, closed: boolean): string {
  if (closed) {
    try {
      const value: unknown = JSON.parse(literal);
      if (typeof value === 'string') return value;
    } catch {
      // Not valid JSON (a raw control character or a bad escape): keep the text as written.
    }
  }
  return literal.slice(1, closed ? -1 : undefined);
}

/**
 * The text of JSON (or JSON Lines): every key and string value with its escapes decoded, and every number,
 * `true`, `false` and `null` as written, one to a line. Never throws, even on text that is not JSON.
 */
export function jsonToText(text: string): string {
  const parts: string[] = [];
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('"', i);
    const between = text.slice(i, open === -1 ? text.length : open);
    if (between) parts.push(between.replace(STRUCTURE, '\n'));
    if (open === -1) break;
    const close = closingQuote(text, open + 1);
    const end = close === -1 ? text.length : close + 1;
    parts.push(stringValue(text.slice(open, end), close !== -1), '\n');
    i = end;
  }
  return parts.join('');
}
