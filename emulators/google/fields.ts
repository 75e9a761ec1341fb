import { invalidValue } from './errors.js';

/**
 * Partial responses: the `fields` parameter (https://developers.google.com/drive/api/guides/fields-parameter,
 * https://developers.google.com/admin-sdk/directory/v1/guides/performance#partial-response): a comma
 * list of field paths, `a/b` for a sub-field, `a(b,c)` for several sub-fields of `a` (of each element
 * when `a` is an array), `*` for every field at a level. An unreadable selector is a 400 at `fields`.
 */
export type FieldTree = Map<string, FieldTree | true>;

export function parseFields(input: string): FieldTree {
  let pos = 0;
  const fail = (): never => {
    throw invalidValue('fields', `Invalid field selection ${input}`);
  };
  const name = (): string => {
    const m = /^[A-Za-z0-9_*@.$-]+/.exec(input.slice(pos));
    if (!m) return fail();
    pos += m[0].length;
    return m[0];
  };
  const merge = (tree: FieldTree, key: string, sub: FieldTree | true) => {
    const have = tree.get(key);
    if (have === true || sub === true) tree.set(key, true);
    else if (have) for (const [k, v] of sub) merge(have, k, v);
    else tree.set(key, sub);
  };
  const list = (closing: string | null): FieldTree => {
    const tree: FieldTree = new Map();
    for (;;) {
      while (input[pos] === ' ') pos++;
      const path = [name()];
      while (input[pos] === '/') {
        pos++;
        path.push(name());
      }
      let leaf: FieldTree | true = true;
      if (input[pos] === '(') {
        pos++;
        leaf = list(')');
      }
      for (let k = path.length - 1; k > 0; k--) leaf = new Map([[path[k]!, leaf]]);
      merge(tree, path[0]!, leaf);
      while (input[pos] === ' ') pos++;
      if (input[pos] === ',') {
        pos++;
        continue;
      }
      if (closing && input[pos] === closing) {
        pos++;
        return tree;
      }
      if (!closing && pos === input.length) return tree;
      return fail();
    }
  };
  if (input.trim() === '') return fail();
  return list(null);
}

/** The parts of `value` the tree selects (absent fields stay absent). */
export function selectFields(value: unknown, tree: FieldTree): unknown {
  if (Array.isArray(value)) return value.map((v) => selectFields(v, tree));
  if (value === null || typeof value !== 'object') return value;
  if (tree.get('*') === true) return value;
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, sub] of tree) {
    if (key === '*') {
      for (const [k, v] of Object.entries(source)) if (!(k in out)) out[k] = sub === true ? v : selectFields(v, sub);
      continue;
    }
    if (!(key in source) || source[key] === undefined) continue;
    out[key] = sub === true ? source[key] : selectFields(source[key], sub);
  }
  return out;
}

/** `value` through the request's `fields`, or through the method's default fields when none is given. */
export function applyFields(value: unknown, fields: string | null, defaults?: string): unknown {
  const selector = fields ?? defaults;
  return selector ? selectFields(value, parseFields(selector)) : value;
}
