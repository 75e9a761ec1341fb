/**
 * The safety check of custom content patterns: a regular expression is accepted only in a subset of
 * JavaScript's syntax whose backtracking stays bounded. The data scan runs patterns with V8's
 * backtracking engine over up to megabytes of text, where `(a+)+$` takes longer than the universe's age;
 * RE2 would be linear, but it is a native addon we do not ship. So patterns are parsed here and refused
 * when their shape can backtrack exponentially or with a high-degree polynomial:
 *
 * 1. no back-references (`\1`, `\k<name>`): matching them is NP-hard;
 * 2. no quantifier inside a repeated group where the inner one is unbounded (`(a+)+`, `(.*a){20}`), or where
 *    the ways to split grow past {@link MAX_SPLITS} (`(a{1,10}){10}`);
 * 3. no alternation inside a repeated group whose alternatives can start with the same character or be
 *    empty (`(a|aa)*`, `(\w|\d)+`, `(a|)*`);
 * 4. no two unbounded quantifiers over overlapping characters with only optional text, or text both match,
 *    between them (`\d+\d+`, `.*.*`, `\w+_\w+`): each split point is tried;
 * 5. no quantifier inside a lookaround, bounded quantifiers at most {@link MAX_REPEAT}, no pattern that
 *    can match empty text.
 *
 * What is left backtracks at worst in proportion to the square of the longest run of characters one
 * quantifier matches; the data scan's worker time budget bounds even that.
 */

/** The largest `{n,m}` bound accepted. */
export const MAX_REPEAT = 1000;
/** How many ways a bounded repeated group may split its text (inner choices to the power of the outer count). */
export const MAX_SPLITS = 10_000;

type Ranges = readonly (readonly [number, number])[];
const MAX_CP = 0x10ffff;

type Node =
  | { readonly t: 'char'; readonly set: Ranges }
  | { readonly t: 'assert'; readonly body?: Node }
  | { readonly t: 'seq'; readonly items: readonly Node[] }
  | { readonly t: 'alt'; readonly options: readonly Node[] }
  | { readonly t: 'repeat'; readonly body: Node; readonly min: number; readonly max: number };

/** Why a pattern is refused, for the client. */
export class UnsafePatternError extends Error {
  override readonly name = 'UnsafePatternError';
}

// ---- character sets, as sorted disjoint code point ranges ----

function normalize(ranges: Ranges): Ranges {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}
const union = (...sets: Ranges[]): Ranges => normalize(sets.flat());
function complement(set: Ranges): Ranges {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of normalize(set)) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CP) out.push([next, MAX_CP]);
  return out;
}
function overlaps(a: Ranges, b: Ranges): boolean {
  return a.some(([lo, hi]) => b.some(([l, h]) => lo <= h && l <= hi));
}
const subset = (a: Ranges, b: Ranges): boolean => complement(b).every((r) => !overlaps([r], a));
/** Adds the other case of the cased characters (looked at up to U+024F, Latin). */
function foldCase(set: Ranges): Ranges {
  const extra: [number, number][] = [];
  for (const [lo, hi] of set) {
    for (let cp = lo; cp <= Math.min(hi, 0x24f); cp++) {
      for (const other of [String.fromCodePoint(cp).toLowerCase(), String.fromCodePoint(cp).toUpperCase()]) {
        const o = other.codePointAt(0)!;
        if (other.length === 1 && o !== cp) extra.push([o, o]);
      }
    }
  }
  return union(set, extra);
}

const one = (c: string): Ranges => [[c.codePointAt(0)!, c.codePointAt(0)!]];
const DIGIT: Ranges = [[0x30, 0x39]];
const WORD: Ranges = normalize([
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]);
const SPACE: Ranges = normalize(
  [...'\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff']
    .map((c) => [c.codePointAt(0)!, c.codePointAt(0)!] as const)
    .concat([[0x2000, 0x200a]]),
);
const LINE_ENDS: Ranges = normalize([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
]);
const ANY: Ranges = [[0, MAX_CP]];
const SYNTAX = '^$\\.*+?()[]{}|/';

// ---- the parser (JavaScript `u`-mode syntax, minus what the rules refuse) ----

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly ignoreCase: boolean,
  ) {}

  parse(): Node {
    const node = this.alternation();
    if (this.i < this.src.length) throw this.fail(`unexpected "${this.src[this.i]}"`);
    return node;
  }

  private fail(message: string): UnsafePatternError {
    return new UnsafePatternError(`${message} at position ${this.i}`);
  }

  private alternation(): Node {
    const options = [this.sequence()];
    while (this.src[this.i] === '|') {
      this.i++;
      options.push(this.sequence());
    }
    return options.length === 1 ? options[0]! : { t: 'alt', options };
  }

  private sequence(): Node {
    const items: Node[] = [];
    while (this.i < this.src.length && this.src[this.i] !== '|' && this.src[this.i] !== ')') {
      const node = this.quantified();
      // A group not repeated is part of the sequence around it: `(a+)(a+)` competes like `a+a+`.
      if (node.t === 'seq') items.push(...node.items);
      else items.push(node);
    }
    return { t: 'seq', items };
  }

  private quantified(): Node {
    const atom = this.atom();
    const bounds = this.quantifier();
    if (!bounds) return atom;
    if (atom.t === 'assert') throw this.fail('a quantifier on an assertion is not accepted');
    if (this.src[this.i] === '?') this.i++; // lazy: same backtracking, other order
    const after = this.src[this.i];
    if (after !== undefined && '*+?{'.includes(after)) throw this.fail('a quantifier may not follow a quantifier');
    return { t: 'repeat', body: atom, ...bounds };
  }

  private quantifier(): { min: number; max: number } | null {
    const c = this.src[this.i];
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      return { min: c === '+' ? 1 : 0, max: c === '?' ? 1 : Infinity };
    }
    if (c !== '{') return null;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i));
    if (!m) throw this.fail('"{" must open a bound such as {2}, {2,} or {2,5} (write \\{ for the character)');
    const min = Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === '' ? Infinity : Number(m[3]);
    if (min > MAX_REPEAT || (max !== Infinity && max > MAX_REPEAT)) throw this.fail(`bounds above ${MAX_REPEAT} are not accepted`);
    if (max < min) throw this.fail('the bound {n,m} needs n <= m');
    this.i += m[0].length;
    return { min, max };
  }

  private char(set: Ranges): Node {
    return { t: 'char', set: this.ignoreCase ? foldCase(set) : set };
  }

  private atom(): Node {
    const c = this.src[this.i]!;
    switch (c) {
      case '(':
        return this.group();
      case '[':
        return this.char(this.charClass());
      case '.':
        this.i++;
        return this.char(complement(LINE_ENDS));
      case '^':
      case '$':
        this.i++;
        return { t: 'assert' };
      case '\\': {
        const next = this.src[this.i + 1];
        if (next === 'b' || next === 'B') {
          this.i += 2;
          return { t: 'assert' };
        }
        return this.char(this.escape(false));
      }
      case '*':
      case '+':
      case '?':
      case '{':
        throw this.fail(`nothing to repeat before "${c}"`);
      case ']':
      case '}':
        throw this.fail(`"${c}" must be escaped as \\${c}`);
      default: {
        const cp = this.src.codePointAt(this.i)!;
        this.i += cp > 0xffff ? 2 : 1;
        return this.char([[cp, cp]]);
      }
    }
  }

  private group(): Node {
    this.i++; // (
    let kind: 'capture' | 'lookaround' = 'capture';
    if (this.src[this.i] === '?') {
      const rest = this.src.slice(this.i);
      const named = /^\?<([A-Za-z_$][\w$]*)>/.exec(rest);
      if (rest.startsWith('?:')) this.i += 2;
      else if (named) this.i += named[0].length;
      else if (/^\?(=|!|<=|<!)/.test(rest)) {
        this.i += rest[1] === '<' ? 3 : 2;
        kind = 'lookaround';
      } else throw this.fail('unknown group "(?"');
    }
    const body = this.alternation();
    if (this.src[this.i] !== ')') throw this.fail('a group is not closed with ")"');
    this.i++;
    if (kind === 'lookaround') {
      if (contains(body, (n) => n.t === 'repeat')) throw this.fail('a quantifier inside a lookaround is not accepted');
      return { t: 'assert', body };
    }
    return body;
  }

  /** After `\`: the characters the escape stands for. */
  private escape(inClass: boolean): Ranges {
    const c = this.src[this.i + 1];
    if (c === undefined) throw this.fail('the pattern ends with "\\"');
    this.i += 2;
    switch (c) {
      case 'd':
        return DIGIT;
      case 'D':
        return complement(DIGIT);
      case 'w':
        return WORD;
      case 'W':
        return complement(WORD);
      case 's':
        return SPACE;
      case 'S':
        return complement(SPACE);
      case 't':
        return one('\t');
      case 'n':
        return one('\n');
      case 'r':
        return one('\r');
      case 'f':
        return one('\f');
      case 'v':
        return one('\v');
      case '0':
        if (/\d/.test(this.src[this.i] ?? '')) throw this.fail('octal escapes are not accepted');
        return one('\0');
      case 'x':
      case 'u': {
        const m = (c === 'x' ? /^[0-9A-Fa-f]{2}/ : /^([0-9A-Fa-f]{4}|\{[0-9A-Fa-f]{1,6}\})/).exec(this.src.slice(this.i));
        if (!m) throw this.fail(`\\${c} must be followed by ${c === 'x' ? 'two' : 'four'} hexadecimal digits`);
        this.i += m[0].length;
        const cp = parseInt(m[0].replace(/[{}]/g, ''), 16);
        if (cp > MAX_CP) throw this.fail('code point beyond U+10FFFF');
        return [[cp, cp]];
      }
      case 'p':
      case 'P': {
        const m = /^\{[A-Za-z_=]+\}/.exec(this.src.slice(this.i));
        if (!m) throw this.fail(`\\${c} must be followed by a property such as {L}`);
        this.i += m[0].length;
        return ANY; // a Unicode property: taken as any character, which only makes the checks stricter
      }
      case 'k':
        throw this.fail('back-references (\\k<name>) are not accepted: they make matching exponential');
      default:
        if (/[1-9]/.test(c)) throw this.fail(`back-references (\\${c}) are not accepted: they make matching exponential`);
        if (SYNTAX.includes(c) || (inClass && c === '-')) return one(c);
        throw this.fail(`unknown escape "\\${c}"`);
    }
  }

  private charClass(): Ranges {
    this.i++; // [
    const negated = this.src[this.i] === '^';
    if (negated) this.i++;
    const parts: Ranges[] = [];
    while (this.src[this.i] !== ']') {
      if (this.i >= this.src.length) throw this.fail('a character class is not closed with "]"');
      const lo = this.classAtom();
      if (this.src[this.i] === '-' && this.src[this.i + 1] !== ']' && this.i + 1 < this.src.length) {
        this.i++;
        const hi = this.classAtom();
        if (lo.length !== 1 || hi.length !== 1 || lo[0]![0] !== lo[0]![1] || hi[0]![0] !== hi[0]![1])
          throw this.fail('a range in a character class needs single characters at both ends');
        if (hi[0]![0] < lo[0]![0]) throw this.fail('a range in a character class is out of order');
        parts.push([[lo[0]![0], hi[0]![0]]]);
      } else parts.push(lo);
    }
    this.i++; // ]
    const set = union(...parts);
    return negated ? complement(set) : set;
  }

  private classAtom(): Ranges {
    if (this.src[this.i] === '\\') {
      if (this.src[this.i + 1] === 'b') {
        this.i += 2;
        return one('\b');
      }
      return this.escape(true);
    }
    const cp = this.src.codePointAt(this.i)!;
    this.i += cp > 0xffff ? 2 : 1;
    return [[cp, cp]];
  }
}

// ---- the analysis ----

function contains(node: Node, test: (n: Node) => boolean): boolean {
  if (test(node)) return true;
  switch (node.t) {
    case 'seq':
      return node.items.some((n) => contains(n, test));
    case 'alt':
      return node.options.some((n) => contains(n, test));
    case 'repeat':
      return contains(node.body, test);
    default:
      return false;
  }
}

function nullable(node: Node): boolean {
  switch (node.t) {
    case 'char':
      return false;
    case 'assert':
      return true;
    case 'seq':
      return node.items.every(nullable);
    case 'alt':
      return node.options.some(nullable);
    case 'repeat':
      return node.min === 0 || nullable(node.body);
  }
}

/** The characters a match of `node` may start with. */
function first(node: Node): Ranges {
  switch (node.t) {
    case 'char':
      return node.set;
    case 'assert':
      return [];
    case 'seq': {
      const sets: Ranges[] = [];
      for (const item of node.items) {
        sets.push(first(item));
        if (!nullable(item)) break;
      }
      return union(...sets);
    }
    case 'alt':
      return union(...node.options.map(first));
    case 'repeat':
      return first(node.body);
  }
}

/** Every character a match of `node` may hold. */
function chars(node: Node): Ranges {
  switch (node.t) {
    case 'char':
      return node.set;
    case 'assert':
      return [];
    case 'seq':
      return union(...node.items.map(chars));
    case 'alt':
      return union(...node.options.map(chars));
    case 'repeat':
      return chars(node.body);
  }
}

const describe = (r: { min: number; max: number }) =>
  r.max === Infinity
    ? r.min === 0
      ? '*'
      : r.min === 1
        ? '+'
        : `{${r.min},}`
    : r.min === 0 && r.max === 1
      ? '?'
      : r.min === r.max
        ? `{${r.min}}`
        : `{${r.min},${r.max}}`;

function check(node: Node): void {
  switch (node.t) {
    case 'char':
    case 'assert':
      return;
    case 'alt':
      node.options.forEach(check);
      return;
    case 'seq':
      node.items.forEach(check);
      checkAdjacent(node.items);
      return;
    case 'repeat':
      check(node.body);
      if (node.max > 1) checkRepeatedBody(node);
  }
}

/** Rules 2 and 3: what a repeated group holds. */
function checkRepeatedBody(outer: Extract<Node, { t: 'repeat' }>): void {
  const visit = (n: Node): void => {
    if (n.t === 'repeat' && n.min !== n.max) {
      const choices = n.max - n.min + 1;
      if (n.max === Infinity || outer.max === Infinity || choices ** outer.max > MAX_SPLITS)
        throw new UnsafePatternError(
          `nested quantifiers ("${describe(n)}" inside a group repeated "${describe(outer)}") can backtrack exponentially; repeat the group or its content, not both`,
        );
    }
    if (n.t === 'alt') {
      const starts = n.options.map((o) => (nullable(o) ? ANY : first(o)));
      for (let a = 0; a < starts.length; a++)
        for (let b = a + 1; b < starts.length; b++)
          if (overlaps(starts[a]!, starts[b]!) && (outer.max === Infinity || n.options.length ** outer.max > MAX_SPLITS))
            throw new UnsafePatternError(
              `alternatives ${a + 1} and ${b + 1} of a group repeated "${describe(outer)}" can start with the same character (or be empty), which backtracks exponentially; make them start differently`,
            );
    }
    if (n.t === 'seq') n.items.forEach(visit);
    if (n.t === 'alt') n.options.forEach(visit);
    if (n.t === 'repeat') visit(n.body);
  };
  visit(outer.body);
}

/** Rule 4: two unbounded quantifiers that compete for the same characters in a sequence. */
function checkAdjacent(items: readonly Node[]): void {
  items.forEach((item, i) => {
    if (item.t !== 'repeat' || item.max !== Infinity) return;
    const set = chars(item.body);
    for (const later of items.slice(i + 1)) {
      if (later.t === 'repeat' && later.max === Infinity && overlaps(set, chars(later.body)))
        throw new UnsafePatternError(
          `two unbounded quantifiers ("${describe(item)}" and "${describe(later)}") compete for the same characters, so every split between them is tried; bound one ({0,100}) or separate them by a character the first cannot match`,
        );
      // The first quantifier's run ends here unless the item can be skipped or is made of its characters.
      if (!nullable(later) && !subset(chars(later), set)) return;
    }
  });
}

/**
 * Checks that `source` is in the accepted subset (see this module's comment) and compiles in `u` mode;
 * throws {@link UnsafePatternError} saying why not. `ignoreCase`: matched with the `i` flag.
 */
export function assertSafePattern(source: string, ignoreCase = false): void {
  try {
    new RegExp(source, ignoreCase ? 'gui' : 'gu');
  } catch (error) {
    throw new UnsafePatternError(
      `is not a valid regular expression (${(error as Error).message.replace(/^Invalid regular expression: /, '')})`,
    );
  }
  const root = new Parser(source, ignoreCase).parse();
  if (nullable(root)) throw new UnsafePatternError('can match empty text, so it would match everywhere; require at least one character');
  check(root);
}
