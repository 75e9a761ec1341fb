import type { EmuFile } from './drive-store.js';
import { invalidValue } from './errors.js';
import type { CustomerState, EmuUser } from './tenant.js';

/** A parsed `q`: the test each file must pass, and the parent folder it names (to read the folder's index, not every file). */
export interface FileQuery {
  readonly test: (file: EmuFile) => boolean;
  readonly parentId: string | null;
}

type Test = (file: EmuFile) => boolean;

const invalidQuery = () => invalidValue('q');

/**
 * The subset of Drive's query language the emulator understands
 * (https://developers.google.com/drive/api/guides/search-files, https://developers.google.com/drive/api/guides/ref-search-terms):
 * terms joined by `and` — `'me' in owners`, `'<email>' in owners`, `'<id>' in parents` (`root` too),
 * `trashed = true|false`, `mimeType = | != '<type>'`, `name = | != | contains '<text>'`,
 * `modifiedTime` and `createdTime` compared (`=`, `!=`, `<`, `<=`, `>`, `>=`) with an RFC 3339 time,
 * `sharedWithMe = true|false`. Anything else is a 400 "Invalid Value" at `q`, as Drive refuses an
 * unreadable query.
 */
export function parseFileQuery(q: string | null, state: CustomerState, user: EmuUser | null): FileQuery {
  if (q === null || q.trim() === '') return { test: () => true, parentId: null };
  const tests: Test[] = [];
  let parentId: string | null = null;
  for (const clause of splitAnd(q)) {
    const term = clause
      .trim()
      .replace(/^\((.*)\)$/, '$1')
      .trim();
    const inList = /^'((?:[^'\\]|\\.)*)'\s+in\s+(owners|parents)$/i.exec(term);
    if (inList) {
      const value = unescape(inList[1]!);
      if (inList[2]!.toLowerCase() === 'parents') {
        const id = value === 'root' ? (user?.rootFolderId ?? '') : value;
        parentId = id;
        tests.push((f) => f.parentId === id);
      } else {
        const owner = value === 'me' ? user : state.user(value);
        tests.push((f) => owner !== null && owner !== undefined && f.ownerId === owner.id);
      }
      continue;
    }
    const cmp = /^(\w+)\s*(=|!=|<=|>=|<|>|contains)\s*(.+)$/i.exec(term);
    if (!cmp) throw invalidQuery();
    const [, field, op, raw] = cmp as unknown as [string, string, string, string];
    tests.push(comparison(field, op.toLowerCase(), raw.trim(), user));
  }
  return { test: (f) => tests.every((t) => t(f)), parentId };
}

function comparison(field: string, op: string, raw: string, user: EmuUser | null): Test {
  const bool = raw === 'true' ? true : raw === 'false' ? false : null;
  const text = /^'((?:[^'\\]|\\.)*)'$/.exec(raw);
  const value = text ? unescape(text[1]!) : null;
  const eq = (a: string | boolean, b: string | boolean) => (op === '=' ? a === b : op === '!=' ? a !== b : null);
  switch (field) {
    case 'trashed':
    case 'sharedWithMe': {
      if (bool === null || (op !== '=' && op !== '!=')) throw invalidQuery();
      const get = field === 'trashed' ? (f: EmuFile) => f.trashed : (f: EmuFile) => f.ownerId !== user?.id && f.driveId === null;
      return (f) => eq(get(f), bool)!;
    }
    case 'mimeType':
    case 'name': {
      if (value === null) throw invalidQuery();
      if (op === 'contains' && field === 'name') return (f) => f.name.toLowerCase().includes(value.toLowerCase());
      if (op !== '=' && op !== '!=') throw invalidQuery();
      return (f) => eq(f[field], value)!;
    }
    case 'modifiedTime':
    case 'createdTime': {
      const at = value === null ? Number.NaN : Date.parse(value);
      if (Number.isNaN(at) || op === 'contains') throw invalidQuery();
      return (f) => {
        const t = Date.parse(f[field]);
        return op === '=' ? t === at : op === '!=' ? t !== at : op === '<' ? t < at : op === '<=' ? t <= at : op === '>' ? t > at : t >= at;
      };
    }
    default:
      throw invalidQuery();
  }
}

/** Splits on ` and ` outside quotes; an ` or ` or ` not ` outside quotes is beyond the subset. */
function splitAnd(q: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < q.length; i++) {
    const ch = q[i]!;
    if (ch === '\\' && quoted) {
      current += ch + (q[++i] ?? '');
      continue;
    }
    if (ch === "'") quoted = !quoted;
    if (!quoted) {
      const rest = q.slice(i).toLowerCase();
      if (/^\s+and\s+/.test(rest)) {
        parts.push(current);
        current = '';
        i += /^\s+and\s+/.exec(rest)![0].length - 1;
        continue;
      }
      if (/^\s+(or|not)\s+/.test(rest) || /^not\s+/.test(rest)) throw invalidQuery();
    }
    current += ch;
  }
  if (quoted) throw invalidQuery();
  parts.push(current);
  return parts;
}

const unescape = (s: string) => s.replace(/\\(.)/g, '$1');
