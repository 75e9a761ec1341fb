import { describe, expect, it } from 'vitest';
import { sniffDelimiter } from './csv-text.js';
import { ContentFormat, DEFAULT_MAX_EXTRACT_BYTES, contentFormat, extractText } from './extract.js';

const utf8 = (text: string): Buffer => Buffer.from(text, 'utf8');
/** The non-empty lines of extracted text, trimmed: what a detector sees, without the layout. */
const lines = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

describe('contentFormat', () => {
  it.each([
    ['text/plain', undefined, ContentFormat.TEXT],
    ['text/markdown; charset=utf-8', undefined, ContentFormat.TEXT],
    ['TEXT/CSV', undefined, ContentFormat.CSV],
    ['text/tab-separated-values', undefined, ContentFormat.CSV],
    ['application/json; charset=utf-8', undefined, ContentFormat.JSON],
    ['application/vnd.api+json', undefined, ContentFormat.JSON],
    ['text/html', undefined, ContentFormat.HTML],
    ['application/xhtml+xml', undefined, ContentFormat.HTML],
    ['image/svg+xml', undefined, ContentFormat.TEXT],
    ['text/plain', 'export.csv', ContentFormat.CSV],
    ['application/octet-stream', 'data/users.JSON', ContentFormat.JSON],
    ['application/vnd.ms-excel', 'C:\\exports\\cards.csv', ContentFormat.CSV],
    [null, 'page.htm', ContentFormat.HTML],
    ['text/csv', 'misnamed.json', ContentFormat.CSV],
    [null, 'notes.txt', ContentFormat.TEXT],
    [null, '.env', ContentFormat.UNKNOWN],
    [null, undefined, ContentFormat.UNKNOWN],
    ['application/octet-stream', 'archive.zip', ContentFormat.UNKNOWN],
  ])('reads %j named %j as %s', (mimeType, name, format) => {
    expect(contentFormat(mimeType, name)).toBe(format);
  });
});

describe('extractText: plain text', () => {
  it('decodes UTF-8', () => {
    expect(extractText(utf8('Grüße, 4111 1111 1111 1111'), 'text/plain')).toBe('Grüße, 4111 1111 1111 1111');
  });

  it('decodes the charset the MIME type names', () => {
    expect(extractText(Buffer.from([0x63, 0x61, 0x66, 0xe9]), 'text/plain; charset="ISO-8859-1"')).toBe('café');
  });

  it('falls back to UTF-8 for a charset it does not know', () => {
    expect(extractText(utf8('café'), 'text/plain; charset=x-unknown')).toBe('café');
  });

  it('follows a byte order mark', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('ssn 123-45-6789', 'utf16le')]);
    expect(extractText(utf16, 'text/plain')).toBe('ssn 123-45-6789');
    expect(extractText(utf16, null)).toBe('ssn 123-45-6789');
    expect(extractText(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8('hi')]), 'text/plain')).toBe('hi');
  });
});

describe('extractText: CSV', () => {
  it('unquotes fields, keeping delimiters, quotes and line breaks inside them', () => {
    const csv = 'name,card,note\r\n"Doe, John","4111 1111 1111 1111","said ""hi""\nthen left"\r\nRoe,5555555555554444,\n';
    expect(extractText(utf8(csv), 'text/csv')).toBe(
      'name\tcard\tnote\r\nDoe, John\t4111 1111 1111 1111\tsaid "hi"\nthen left\r\nRoe\t5555555555554444\t\n',
    );
  });

  it('keeps fields apart so that neighbouring numbers never join', () => {
    expect(extractText(utf8('4111,1111,1111,1111'), 'text/csv')).toBe('4111\t1111\t1111\t1111');
  });

  it('reads semicolon- and tab-separated files', () => {
    expect(extractText(utf8('a;"b;c";d\n1;2;3'), 'text/csv')).toBe('a\tb;c\td\n1\t2\t3');
    expect(extractText(utf8('a\t"b\tc"\n1\t2'), null, 'export.tsv')).toBe('a\tb\tc\n1\t2');
    expect(sniffDelimiter('a|b|c,d\n')).toBe('|');
    expect(sniffDelimiter('single column\n')).toBe(',');
  });

  it('forgives malformed quoting: a quote inside a field is text, an unclosed quote runs to the end', () => {
    expect(extractText(utf8('5" disk,x\n"open,never closed\nnext'), 'text/csv')).toBe('5" disk\tx\nopen,never closed\nnext');
    expect(extractText(utf8('"a"b,c'), 'text/csv')).toBe('ab\tc');
  });
});

describe('extractText: JSON', () => {
  it('gives every key, string and number of nested objects and arrays', () => {
    const json = JSON.stringify({
      user: { email: 'jane@example.com', cards: [{ number: '4111 1111 1111 1111' }, { number: 5555555555554444 }] },
      'ssn-of-owner': '123-45-6789',
      active: true,
      notes: null,
    });
    expect(lines(extractText(utf8(json), 'application/json'))).toEqual([
      'user',
      'email',
      'jane@example.com',
      'cards',
      'number',
      '4111 1111 1111 1111',
      'number',
      '5555555555554444',
      'ssn-of-owner',
      '123-45-6789',
      'active',
      'true',
      'notes',
      'null',
    ]);
  });

  it('decodes escapes in keys and values', () => {
    const json = String.raw`{"k\"ey": "jane\u0040example.com", "pem": "-----BEGIN\nkey\t\u00e9", "emoji": "\ud83d\udd11"}`;
    expect(lines(extractText(utf8(json), 'application/json'))).toEqual([
      'k"ey',
      'jane@example.com',
      'pem',
      '-----BEGIN',
      'key\té',
      'emoji',
      '🔑',
    ]);
  });

  it('keeps every digit of numbers past 2^53', () => {
    expect(lines(extractText(utf8('[6011000990139424123, 1e400, -0.5]'), 'application/json'))).toEqual([
      '6011000990139424123',
      '1e400',
      '-0.5',
    ]);
  });

  it('reads JSON Lines, truncated JSON and text that is not JSON', () => {
    expect(lines(extractText(utf8('{"a":"x"}\n{"a":"y"}\n'), null, 'events.jsonl'))).toEqual(['a', 'x', 'a', 'y']);
    expect(lines(extractText(utf8('{"a": "cut here'), 'application/json'))).toEqual(['a', 'cut here']);
    expect(lines(extractText(utf8('plain words, john@example.com'), 'application/json'))).toEqual(['plain words', 'john@example.com']);
    expect(lines(extractText(utf8('{"bad": "raw\ttab \\x"}'), 'application/json'))).toEqual(['bad', 'raw\ttab \\x']);
  });

  it('reads deeply nested JSON without running out of stack', () => {
    const depth = 200_000;
    const json = `${'['.repeat(depth)}"deep"${']'.repeat(depth)}`;
    expect(lines(extractText(utf8(json), 'application/json'))).toEqual(['deep']);
  });
});

describe('extractText: HTML', () => {
  it('gives the visible text without tags, comments, scripts or styles', () => {
    const html = `<!DOCTYPE html><html><head><title>Invoice</title>
      <style>body { content: "4111111111111111" }</style>
      <script type="text/javascript">const key = "123-45-6789"; if (a < b && c > d) {}</script>
      <SCRIPT>document.write("</div>")</SCRIPT >
      </head><body><!-- 5555555555554444 --><p class="x">Pay <b>now</b></p></body></html>`;
    expect(lines(extractText(utf8(html), 'text/html'))).toEqual(['Invoice', 'Pay now']);
  });

  it('decodes character references', () => {
    const html =
      '<p>Tom &amp; Jerry &lt;tj&gt; &quot;hi&quot; jane&#64;example.com joe&#x40;example.com ann&commat;example&period;com caf&eacute; &bogus; AT&T &amp</p>';
    expect(lines(extractText(utf8(html), 'text/html'))).toEqual([
      'Tom & Jerry <tj> "hi" jane@example.com joe@example.com ann@example.com caf&eacute; &bogus; AT&T &',
    ]);
  });

  it('turns non-breaking spaces into spaces', () => {
    expect(lines(extractText(utf8('<td>4111&nbsp;1111\u00a01111&#160;1111</td>'), 'text/html'))).toEqual(['4111 1111 1111 1111']);
  });

  it('joins text across inline tags and breaks it at block tags', () => {
    const html = '<table><tr><td>4111111111111111</td><td>123</td></tr></table><p>john<span>@</span>example.com</p>';
    expect(lines(extractText(utf8(html), 'text/html'))).toEqual(['4111111111111111', '123', 'john@example.com']);
  });

  it('leaves attribute values out, even when they hold a >', () => {
    const html = `<a href="mailto:x@example.com" title='a > b' data-x=">">Write to us</a><img alt="4111111111111111">`;
    expect(lines(extractText(utf8(html), 'text/html'))).toEqual(['Write to us']);
  });

  it('keeps a < that starts no tag, and drops what follows an unclosed script or comment', () => {
    expect(lines(extractText(utf8('<p>1 < 2 and 3 <= 4</p>'), 'text/html'))).toEqual(['1 < 2 and 3 <= 4']);
    expect(lines(extractText(utf8('before<script>never closed 123-45-6789'), 'text/html'))).toEqual(['before']);
    expect(lines(extractText(utf8('before<!-- never closed 123-45-6789'), 'text/html'))).toEqual(['before']);
  });
});

describe('extractText: unknown types', () => {
  it('reads text as UTF-8', () => {
    expect(extractText(utf8('AWS_SECRET=x\nuser=jane@example.com\n'), null, '.env')).toBe('AWS_SECRET=x\nuser=jane@example.com\n');
    expect(extractText(utf8('\u001b[32mgreen\u001b[0m log line'), 'application/octet-stream')).toBe('\u001b[32mgreen\u001b[0m log line');
  });

  it('gives nothing for binary content', () => {
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]), utf8('4111111111111111')]);
    expect(extractText(png, 'image/png')).toBe('');
    const noNul = Buffer.from(Array.from({ length: 4096 }, (_, i) => 1 + ((i * 97) % 255)));
    expect(extractText(noNul, null)).toBe('');
  });

  it('tolerates a few bad bytes in otherwise readable text', () => {
    const latin1 = Buffer.concat([
      utf8('r'),
      Buffer.from([0xe9]),
      utf8('sum'),
      Buffer.from([0xe9]),
      utf8(' of jane@example.com, '.repeat(10)),
    ]);
    expect(extractText(latin1, null)).toContain('jane@example.com');
  });
});

describe('extractText: size cap', () => {
  it('defaults to 10 MiB', () => {
    expect(DEFAULT_MAX_EXTRACT_BYTES).toBe(10 * 1024 * 1024);
    const big = Buffer.alloc(DEFAULT_MAX_EXTRACT_BYTES + 10, 'a');
    expect(extractText(big, 'text/plain')).toHaveLength(DEFAULT_MAX_EXTRACT_BYTES);
  });

  it('reads only the first maxBytes bytes', () => {
    const content = utf8('123-45-6789 then jane@example.com');
    expect(extractText(content, 'text/plain', undefined, { maxBytes: 11 })).toBe('123-45-6789');
    expect(extractText(content, 'text/plain', undefined, { maxBytes: 1000 })).toBe(content.toString());
  });

  it.each([0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY])('refuses maxBytes %s', (maxBytes) => {
    expect(() => extractText(utf8('x'), 'text/plain', undefined, { maxBytes })).toThrow(
      new RangeError(`maxBytes must be a positive integer number of bytes, got ${maxBytes}`),
    );
  });
});
