import { strFromU8 } from 'fflate';
import type { TextSink } from './limits.js';
import { walkXml, xmlText } from './xml-text.js';

/** The kinds of ZIP-based files the data scan reads. */
export enum ContainerKind {
  /** Office Open XML (ECMA-376): Word, Excel, PowerPoint. */
  DOCX = 'DOCX',
  XLSX = 'XLSX',
  PPTX = 'PPTX',
  /** OpenDocument (ODT, ODS, ODP and the rest): one content.xml, whatever the application. */
  ODF = 'ODF',
  /** Any other archive: every entry is a file of its own. */
  ZIP = 'ZIP',
}

/** What an archive is, from the names of its entries. */
export function containerKind(names: readonly string[]): ContainerKind {
  const has = new Set(names);
  if (has.has('[Content_Types].xml')) {
    if (has.has('word/document.xml')) return ContainerKind.DOCX;
    if (has.has('xl/workbook.xml')) return ContainerKind.XLSX;
    if (has.has('ppt/presentation.xml')) return ContainerKind.PPTX;
  }
  if (has.has('mimetype') && has.has('content.xml')) return ContainerKind.ODF;
  return ContainerKind.ZIP;
}

// The parts that hold what a person wrote: body, headers and footers, notes, comments, cells and slides, and
// the document properties (author, title). Styles, themes, relationships and media are left out.
const TEXT_PARTS: Readonly<Record<Exclude<ContainerKind, ContainerKind.ZIP>, RegExp>> = {
  DOCX: /^(?:word\/(?:document|header\d*|footer\d*|footnotes|endnotes|comments)\.xml|docProps\/core\.xml)$/,
  XLSX: /^(?:xl\/(?:sharedStrings|worksheets\/sheet\d+|comments\d*)\.xml|docProps\/core\.xml)$/,
  PPTX: /^(?:ppt\/(?:slides\/slide\d+|notesSlides\/notesSlide\d+|comments\/comment\d+)\.xml|docProps\/core\.xml)$/,
  // Embedded objects (a chart's table, a formula) are documents of their own in a folder.
  ODF: /^(?:(?:Object [^/]+\/)?(?:content|styles)\.xml|meta\.xml)$/,
};

// Files embedded in an office document (a spreadsheet in a Word document): read as files of their own.
const EMBEDDED = /^(?:word|xl|ppt)\/embeddings\/[^/]+$/;

// Entries of a plain archive that hold no text: not inflated, not counted against the expansion budget.
const NO_TEXT =
  /\.(?:jpe?g|png|gif|bmp|tiff?|webp|heic|ico|mp[34]|m4[av]|mov|avi|mkv|webm|wav|flac|ogg|aac|ttf|otf|woff2?|exe|dll|so|dylib|class|pyc|o|a)$/i;

/** Whether an entry of an archive of `kind` is read, as text of the container (`part`) or as a file of its own (`file`). */
export function entryRole(kind: ContainerKind, name: string): 'part' | 'file' | undefined {
  if (name.endsWith('/')) return undefined;
  if (kind === ContainerKind.ZIP) return NO_TEXT.test(name) ? undefined : 'file';
  if (TEXT_PARTS[kind].test(name)) return 'part';
  return EMBEDDED.test(name) ? 'file' : undefined;
}

/** An XML part of an office document as a string (UTF-8, what OOXML and ODF write). */
const xmlOf = (bytes: Uint8Array): string => strFromU8(bytes);

/** The strings of an XLSX's shared string table, in order: a cell of type "s" holds an index into it. */
function sharedStrings(xml: string): string[] {
  const strings: string[] = [];
  let current = '';
  // Phonetic runs (rPh) repeat a string's reading in kana: not part of the value.
  let phonetic = 0;
  walkXml(xml, {
    text: (text) => {
      if (phonetic === 0) current += text;
    },
    open: (name, tag) => {
      if (name === 'rPh' && !tag.endsWith('/>')) phonetic++;
    },
    close: (name) => {
      if (name === 'rPh') phonetic = Math.max(0, phonetic - 1);
      else if (name === 'si') {
        strings.push(current);
        current = '';
      }
    },
  });
  return strings;
}

/** A worksheet as rows of tab-separated values: shared strings resolved, formulas left out. */
function worksheetText(xml: string, strings: readonly string[], sink: TextSink): void {
  let cellType = '';
  let inValue = false;
  let inFormula = false;
  walkXml(
    xml,
    {
      text: (text) => {
        if (inFormula) return;
        if (inValue && cellType === 's') sink.write(strings[Number(text.trim())] ?? '');
        else sink.write(text);
      },
      open: (name, tag) => {
        if (name === 'c') cellType = /\st="([^"]*)"/.exec(tag)?.[1] ?? '';
        else if (name === 'v') inValue = true;
        else if (name === 'f') inFormula = true;
      },
      close: (name) => {
        if (name === 'v') inValue = false;
        else if (name === 'f') inFormula = false;
        else if (name === 'c') sink.write('\t');
        else if (name === 'row') sink.write('\n');
      },
    },
    () => sink.full,
  );
}

/**
 * Writes the text of an office document's parts (from {@link entryRole} `part`) to `sink`, each part
 * ending a line. An XLSX's worksheets are read with its shared strings in place of their indexes.
 */
export function officeText(kind: ContainerKind, parts: readonly { name: string; bytes: Uint8Array }[], sink: TextSink): void {
  const strings =
    kind === ContainerKind.XLSX
      ? sharedStrings(xmlOf(parts.find((p) => p.name === 'xl/sharedStrings.xml')?.bytes ?? new Uint8Array()))
      : [];
  for (const part of parts) {
    if (sink.full) return;
    if (kind === ContainerKind.XLSX && part.name === 'xl/sharedStrings.xml') continue;
    const xml = xmlOf(part.bytes);
    if (kind === ContainerKind.XLSX && part.name.startsWith('xl/worksheets/')) worksheetText(xml, strings, sink);
    else
      xmlText(
        xml,
        (text) => sink.write(text),
        () => sink.full,
      );
    sink.breakLine();
  }
}
