// Minimal valid documents of each format the data scan reads, built from text: the tests' and the
// benchmark's fixtures, made by code rather than committed as opaque binaries. Each holds what its
// format's readers need and no more (Word, Excel, LibreOffice and PDF.js open them).
import zlib from 'node:zlib';
import { strToU8, zipSync, type Zippable } from 'fflate';

const escapeXml = (text: string): string => text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';

/** A ZIP archive of `entries` (text as UTF-8), deflated at `level` (0: stored). */
export function zipOf(entries: Readonly<Record<string, string | Uint8Array>>, level: 0 | 6 | 9 = 6): Uint8Array {
  const files: Zippable = {};
  for (const [name, content] of Object.entries(entries)) files[name] = typeof content === 'string' ? strToU8(content) : content;
  return zipSync(files, { level });
}

function contentTypes(overrides: Readonly<Record<string, string>>): string {
  return (
    XML_DECLARATION +
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
    '<Default Extension="xml" ContentType="application/xml"/>' +
    Object.entries(overrides)
      .map(([part, type]) => `<Override PartName="/${part}" ContentType="${type}"/>`)
      .join('') +
    '</Types>'
  );
}

function relationships(targets: readonly (readonly [type: string, target: string])[]): string {
  return (
    XML_DECLARATION +
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    targets.map(([type, target], i) => `<Relationship Id="rId${i + 1}" Type="${type}" Target="${target}"/>`).join('') +
    '</Relationships>'
  );
}

const OFFICE_DOCUMENT = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument';
const R = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** A Word document: one paragraph per item, each a list of runs (text split across runs stays one word). */
export function docxOf(paragraphs: readonly (string | readonly string[])[]): Uint8Array {
  const body = paragraphs
    .map(
      (p) =>
        `<w:p>${(typeof p === 'string' ? [p] : p).map((run) => `<w:r><w:t xml:space="preserve">${escapeXml(run)}</w:t></w:r>`).join('')}</w:p>`,
    )
    .join('');
  return zipOf({
    '[Content_Types].xml': contentTypes({
      'word/document.xml': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml',
    }),
    '_rels/.rels': relationships([[OFFICE_DOCUMENT, 'word/document.xml']]),
    'word/document.xml': `${XML_DECLARATION}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
  });
}

/** An Excel workbook of one sheet: strings go to the shared string table, numbers stay numbers. */
export function xlsxOf(rows: readonly (readonly (string | number)[])[]): Uint8Array {
  const strings: string[] = [];
  const column = (i: number): string => (i < 26 ? '' : column(Math.floor(i / 26) - 1)) + String.fromCharCode(65 + (i % 26));
  const sheetRows = rows
    .map(
      (row, r) =>
        `<row r="${r + 1}">${row
          .map((value, c) => {
            const ref = `${column(c)}${r + 1}`;
            if (typeof value === 'number') return `<c r="${ref}"><v>${value}</v></c>`;
            strings.push(value);
            return `<c r="${ref}" t="s"><v>${strings.length - 1}</v></c>`;
          })
          .join('')}</row>`,
    )
    .join('');
  const main = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
  return zipOf({
    '[Content_Types].xml': contentTypes({
      'xl/workbook.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml',
      'xl/worksheets/sheet1.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml',
      'xl/sharedStrings.xml': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml',
    }),
    '_rels/.rels': relationships([[OFFICE_DOCUMENT, 'xl/workbook.xml']]),
    'xl/workbook.xml': `${XML_DECLARATION}<workbook xmlns="${main}" xmlns:r="${R}"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': relationships([
      [`${R}/worksheet`, 'worksheets/sheet1.xml'],
      [`${R}/sharedStrings`, 'sharedStrings.xml'],
    ]),
    'xl/worksheets/sheet1.xml': `${XML_DECLARATION}<worksheet xmlns="${main}"><sheetData>${sheetRows}</sheetData></worksheet>`,
    'xl/sharedStrings.xml': `${XML_DECLARATION}<sst xmlns="${main}" count="${strings.length}" uniqueCount="${strings.length}">${strings
      .map((s) => `<si><t xml:space="preserve">${escapeXml(s)}</t></si>`)
      .join('')}</sst>`,
  });
}

/** A PowerPoint presentation: one slide per item, one paragraph per line. */
export function pptxOf(slides: readonly (readonly string[])[]): Uint8Array {
  const a = 'http://schemas.openxmlformats.org/drawingml/2006/main';
  const p = 'http://schemas.openxmlformats.org/presentationml/2006/main';
  const entries: Record<string, string> = {
    '_rels/.rels': relationships([[OFFICE_DOCUMENT, 'ppt/presentation.xml']]),
    'ppt/presentation.xml': `${XML_DECLARATION}<p:presentation xmlns:p="${p}" xmlns:r="${R}"><p:sldIdLst>${slides
      .map((_, i) => `<p:sldId id="${256 + i}" r:id="rId${i + 1}"/>`)
      .join('')}</p:sldIdLst></p:presentation>`,
    'ppt/_rels/presentation.xml.rels': relationships(slides.map((_, i) => [`${R}/slide`, `slides/slide${i + 1}.xml`] as const)),
  };
  const overrides: Record<string, string> = {
    'ppt/presentation.xml': 'application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml',
  };
  slides.forEach((lines, i) => {
    const paragraphs = lines.map((line) => `<a:p><a:r><a:t>${escapeXml(line)}</a:t></a:r></a:p>`).join('');
    entries[`ppt/slides/slide${i + 1}.xml`] =
      `${XML_DECLARATION}<p:sld xmlns:a="${a}" xmlns:p="${p}"><p:cSld><p:spTree><p:sp><p:txBody><a:bodyPr/>${paragraphs}</p:txBody></p:sp></p:spTree></p:cSld></p:sld>`;
    overrides[`ppt/slides/slide${i + 1}.xml`] = 'application/vnd.openxmlformats-officedocument.presentationml.slide+xml';
  });
  return zipOf({ '[Content_Types].xml': contentTypes(overrides), ...entries });
}

const ODF_NAMESPACES =
  'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" ' +
  'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"';

function odfOf(mimeType: string, body: string): Uint8Array {
  return zipSync(
    {
      // The mimetype entry comes first and stored (ODF 1.2 part 3, 3.3), so that the format can be told from the first bytes.
      mimetype: [strToU8(mimeType), { level: 0 }],
      'content.xml': strToU8(
        `${XML_DECLARATION}<office:document-content ${ODF_NAMESPACES} office:version="1.2"><office:body>${body}</office:body></office:document-content>`,
      ),
      'META-INF/manifest.xml': strToU8(
        `${XML_DECLARATION}<manifest:manifest ${ODF_NAMESPACES}><manifest:file-entry manifest:full-path="/" manifest:media-type="${mimeType}"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/></manifest:manifest>`,
      ),
    },
    { level: 6 },
  );
}

/** An OpenDocument text: one paragraph per line. */
export function odtOf(paragraphs: readonly string[]): Uint8Array {
  return odfOf(
    'application/vnd.oasis.opendocument.text',
    `<office:text>${paragraphs.map((p) => `<text:p>${escapeXml(p)}</text:p>`).join('')}</office:text>`,
  );
}

/** An OpenDocument spreadsheet of one table. */
export function odsOf(rows: readonly (readonly string[])[]): Uint8Array {
  const table = rows
    .map(
      (row) =>
        `<table:table-row>${row.map((cell) => `<table:table-cell office:value-type="string"><text:p>${escapeXml(cell)}</text:p></table:table-cell>`).join('')}</table:table-row>`,
    )
    .join('');
  return odfOf(
    'application/vnd.oasis.opendocument.spreadsheet',
    `<office:spreadsheet><table:table table:name="Sheet1">${table}</table:table></office:spreadsheet>`,
  );
}

/** An OpenDocument presentation: one slide (draw:page) per item, one paragraph per line. */
export function odpOf(slides: readonly (readonly string[])[]): Uint8Array {
  const pages = slides
    .map(
      (lines, i) =>
        `<draw:page draw:name="page${i + 1}"><draw:frame><draw:text-box>${lines.map((l) => `<text:p>${escapeXml(l)}</text:p>`).join('')}</draw:text-box></draw:frame></draw:page>`,
    )
    .join('');
  return odfOf('application/vnd.oasis.opendocument.presentation', `<office:presentation>${pages}</office:presentation>`);
}

/**
 * A PDF of `lines` of text in Helvetica, `linesPerPage` to a page (default 50), each page's content stream
 * Flate-compressed when `compress` (default true).
 */
export function pdfOf(
  lines: readonly string[],
  { compress = true, linesPerPage = 50 }: { compress?: boolean; linesPerPage?: number } = {},
): Uint8Array {
  const escapePdf = (s: string) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const pages: (readonly string[])[] = [];
  for (let i = 0; i < Math.max(lines.length, 1); i += linesPerPage) pages.push(lines.slice(i, i + linesPerPage));
  return pdfOfPages(
    pages.map((pageLines) => {
      const text = Buffer.from(`BT /F1 11 Tf 72 760 Td 13 TL ${pageLines.map((l) => `(${escapePdf(l)}) '`).join(' ')} ET`, 'latin1');
      return compress ? { stream: zlib.deflateSync(text), filter: 'FlateDecode' } : { stream: text };
    }),
  );
}

/** A PDF of pages whose content streams are given as they are stored (`filter`: the one filter they are encoded with). */
export function pdfOfPages(pages: readonly { readonly stream: Uint8Array; readonly filter?: string }[]): Uint8Array {
  // Objects: 1 catalog, 2 page tree, 3 font, then a page and its content stream for each page.
  const pageObject = (i: number) => 4 + 2 * i;
  const objects: Buffer[] = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from(`<< /Type /Pages /Kids [${pages.map((_, i) => `${pageObject(i)} 0 R`).join(' ')}] /Count ${pages.length} >>`),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>'),
  ];
  pages.forEach(({ stream, filter }, i) => {
    objects.push(
      Buffer.from(
        `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents ${pageObject(i) + 1} 0 R /Resources << /Font << /F1 3 0 R >> >> >>`,
      ),
      Buffer.concat([
        Buffer.from(`<< /Length ${stream.length}${filter ? ` /Filter /${filter}` : ''} >>\nstream\n`),
        stream,
        Buffer.from('\nendstream'),
      ]),
    );
  });
  const parts: Buffer[] = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let offset = parts[0]!.length;
  objects.forEach((object, i) => {
    offsets.push(offset);
    const part = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), object, Buffer.from('\nendobj\n')]);
    parts.push(part);
    offset += part.length;
  });
  // The cross-reference table: one 20-byte line per object, then the trailer (ISO 32000-1, 7.5.4).
  const xref =
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n` +
    offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('') +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
  parts.push(Buffer.from(xref));
  return new Uint8Array(Buffer.concat(parts));
}
