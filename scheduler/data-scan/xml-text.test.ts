import { describe, expect, it } from 'vitest';
import { decodeXmlEntities, xmlText } from './xml-text.js';

function textOf(xml: string): string {
  const parts: string[] = [];
  xmlText(xml, (text) => parts.push(text));
  return parts.join('');
}

describe('xmlText', () => {
  it('gives text nodes, with a line or a tab where paragraphs, cells and breaks end', () => {
    const xml =
      '<?xml version="1.0"?><w:document><w:body><w:p><w:r><w:t>a</w:t></w:r><w:r><w:tab/><w:t>b</w:t></w:r></w:p>' +
      '<w:tbl><w:tr><w:tc><w:p><w:r><w:t>c1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>c2</w:t></w:r></w:p></w:tc></w:tr></w:tbl></w:body></w:document>';
    expect(textOf(xml)).toBe('a\tb\nc1\n\tc2\n\t\n');
  });

  it('drops comments, processing instructions, attribute values and indentation; keeps CDATA', () => {
    const xml = '<a title="4111 1111 1111 1111" alt=\'x>y\'>\n  <!-- 123-45-6789 --><?pi 5555?>\n  <b>one <![CDATA[<two>]]></b>\n</a>';
    expect(textOf(xml)).toBe('one <two>');
  });

  it('skips a DOCTYPE with its internal subset and never expands an entity it declares', () => {
    expect(textOf('<!DOCTYPE x [<!ENTITY e "secret">]><x>&e; &amp; &#64; &#x40;</x>')).toBe('&e; & @ @');
  });

  it('decodes the predefined entities and character references, leaving bad ones as written', () => {
    expect(decodeXmlEntities('&lt;&gt;&amp;&quot;&apos;&#65;&#x42;&#0;&#xD800;&bogus;')).toBe('<>&"\'AB&#0;&#xD800;&bogus;');
  });

  const MILLION = 1_000_000;
  it.each([
    ['<', '<'.repeat(MILLION)],
    ['unclosed tags with quotes', '<a b="'.repeat(MILLION / 6)],
    ['many attributes', `<a ${'b="" '.repeat(MILLION / 5)}>x</a>`],
    ['unclosed comments', '<!--'.repeat(MILLION / 4)],
    ['unclosed DOCTYPEs', '<!DOCTYPE ['.repeat(MILLION / 11)],
    ['unclosed CDATA', '<![CDATA['.repeat(MILLION / 9)],
    ['ampersands', '&#'.repeat(MILLION / 2)],
  ])('reads a million characters of %s in linear time', (_name, xml) => {
    const started = performance.now();
    textOf(xml);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});
