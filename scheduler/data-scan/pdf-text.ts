import { getDocumentProxy } from 'unpdf';
import { ExtractionRefused, type TextSink } from './limits.js';

/** "%PDF-": how a PDF starts. */
export function isPdf(bytes: Uint8Array): boolean {
  return bytes.length >= 5 && bytes[0] === 0x25 && bytes[1] === 0x50 && bytes[2] === 0x44 && bytes[3] === 0x46 && bytes[4] === 0x2d;
}

/**
 * Writes the text of a PDF's pages to `sink`, page after page, until it is full: each page's text runs as
 * PDF.js lays them out, a line break where a run ends a line and between pages. Scripts are never run:
 * `isEvalSupported: false` keeps PDF.js from compiling fonts into functions (CVE-2024-4367). Throws
 * {@link ExtractionRefused} for content PDF.js cannot read (encrypted with a user password, damaged).
 */
export async function pdfText(bytes: Uint8Array, sink: TextSink): Promise<void> {
  let document;
  try {
    // PDF.js takes ownership of the array it is given: hand it a copy, the caller's bytes stay whole.
    document = await getDocumentProxy(new Uint8Array(bytes), { verbosity: 0, isEvalSupported: false, stopAtErrors: false });
  } catch (error) {
    throw new ExtractionRefused(`not a readable PDF (${(error as Error).message})`);
  }
  try {
    for (let number = 1; number <= document.numPages && !sink.full; number++) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      for (const item of content.items) if ('str' in item) sink.write(item.hasEOL ? `${item.str}\n` : item.str);
      sink.breakLine();
      page.cleanup();
    }
  } finally {
    await document.destroy();
  }
}
