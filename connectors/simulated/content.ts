import { createHash } from 'node:crypto';
import { WORDS } from './catalog.js';
import type { ContentFormat, DetectableKind, FileVersion, Planted } from './model.js';
import type { Rng } from './prng.js';

/** File bodies in plain text, CSV, JSON and HTML, with the planted values written where people put them. */

export const MIME_TYPES: Readonly<Record<ContentFormat, string>> = {
  text: 'text/plain',
  csv: 'text/csv',
  json: 'application/json',
  html: 'text/html',
};

export const EXTENSIONS: Readonly<Record<ContentFormat, string>> = { text: 'txt', csv: 'csv', json: 'json', html: 'html' };

const LABELS: Readonly<Record<DetectableKind, string>> = {
  CREDIT_CARD: 'card_number',
  US_SSN: 'ssn',
  IBAN: 'iban',
  EMAIL: 'contact_email',
  AWS_ACCESS_KEY: 'aws_access_key_id',
  PRIVATE_KEY: 'private_key',
  JWT: 'api_token',
};

/** A short content hash: the file's etag, new whenever the bytes change. */
export function etagOf(content: string): string {
  return createHash('sha256').update(content).digest('hex').slice(0, 16);
}

function sentence(rng: Rng): string {
  const words = Array.from({ length: rng.int(6, 14) }, () => rng.pick(WORDS));
  const text = words.join(' ');
  return `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}

function paragraph(rng: Rng): string {
  return Array.from({ length: rng.int(2, 5) }, () => sentence(rng)).join(' ');
}

function csvCell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

function escapeHtml(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function renderText(rng: Rng, title: string, planted: readonly Planted[]): string {
  const parts = [title, '', paragraph(rng)];
  for (const p of planted) {
    parts.push('', p.kind === 'PRIVATE_KEY' ? p.value : `${LABELS[p.kind]}: ${p.value}`, paragraph(rng));
  }
  return `${parts.join('\n')}\n`;
}

function renderCsv(rng: Rng, people: readonly string[], planted: readonly Planted[]): string {
  const rows = [['name', 'status', 'field', 'value', 'note']];
  const fillers = rng.int(3, 10);
  for (let i = 0; i < fillers; i++)
    rows.push([rng.pick(people), rng.pick(['approved', 'draft', 'final']), 'comment', rng.pick(WORDS), sentence(rng)]);
  for (const p of planted) rows.splice(rng.int(1, rows.length), 0, [rng.pick(people), 'final', LABELS[p.kind], p.value, sentence(rng)]);
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`;
}

function renderJson(rng: Rng, title: string, people: readonly string[], planted: readonly Planted[]): string {
  const document = {
    title,
    owner: rng.pick(people),
    status: rng.pick(['draft', 'final', 'archived']),
    notes: Array.from({ length: rng.int(1, 3) }, () => sentence(rng)),
    records: planted.map((p) => ({ [LABELS[p.kind]]: p.value, note: sentence(rng) })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

function renderHtml(rng: Rng, title: string, planted: readonly Planted[]): string {
  const items = planted.map((p) =>
    p.kind === 'PRIVATE_KEY' ? `<pre>${escapeHtml(p.value)}</pre>` : `<li>${LABELS[p.kind]}: ${escapeHtml(p.value)}</li>`,
  );
  return [
    '<!doctype html>',
    `<html><head><title>${escapeHtml(title)}</title></head><body>`,
    `<h1>${escapeHtml(title)}</h1>`,
    `<p>${paragraph(rng)}</p>`,
    `<ul>${items.join('')}</ul>`,
    `<p>${paragraph(rng)}</p>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** Renders a body of `format` that contains exactly the `planted` values among filler text. */
export function renderContent(
  rng: Rng,
  format: ContentFormat,
  title: string,
  people: readonly string[],
  planted: readonly Planted[],
): FileVersion {
  let content: string;
  switch (format) {
    case 'text':
      content = renderText(rng, title, planted);
      break;
    case 'csv':
      content = renderCsv(rng, people, planted);
      break;
    case 'json':
      content = renderJson(rng, title, people, planted);
      break;
    case 'html':
      content = renderHtml(rng, title, planted);
      break;
    default: {
      const never: never = format;
      throw new Error(`unknown content format ${String(never)}`);
    }
  }
  return { content, mimeType: MIME_TYPES[format], etag: etagOf(content), planted: [...planted] };
}

/** The format of a MIME type this module renders (plain text for anything else). */
export function formatOf(mimeType: string): ContentFormat {
  const entry = (Object.entries(MIME_TYPES) as [ContentFormat, string][]).find(([, m]) => m === mimeType);
  return entry ? entry[0] : 'text';
}
