import { soqlError } from '../errors.js';

/**
 * The SOQL subset the emulator understands, parsed into a small tree; anything else is refused with
 * MALFORMED_QUERY at its position, as Salesforce refuses what it cannot parse
 * (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select.htm).
 */

export interface Path {
  readonly parts: readonly string[];
  readonly pos: number;
}

export type SelectItem =
  { readonly kind: 'field'; readonly path: Path } | { readonly kind: 'count'; readonly path: Path | null; readonly pos: number };

export type Literal =
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'number'; readonly value: number; readonly pos: number }
  | { readonly kind: 'boolean'; readonly value: boolean; readonly pos: number }
  | { readonly kind: 'null'; readonly pos: number }
  | { readonly kind: 'datetime'; readonly value: number; readonly pos: number }
  | { readonly kind: 'date'; readonly value: string; readonly pos: number }
  | { readonly kind: 'dateConstant'; readonly name: string; readonly n: number | null; readonly pos: number };

export type Operator = '=' | '!=' | '<' | '<=' | '>' | '>=' | 'LIKE';

export type Condition =
  | { readonly kind: 'and' | 'or'; readonly items: readonly Condition[] }
  | { readonly kind: 'not'; readonly item: Condition }
  | { readonly kind: 'compare'; readonly path: Path; readonly op: Operator; readonly value: Literal }
  | { readonly kind: 'in'; readonly path: Path; readonly negate: boolean; readonly values: readonly Literal[] };

export interface OrderItem {
  readonly path: Path;
  readonly descending: boolean;
  readonly nullsLast: boolean;
}

export interface SoqlQuery {
  readonly text: string;
  readonly select: readonly SelectItem[];
  readonly from: { readonly name: string; readonly pos: number };
  readonly where: Condition | null;
  readonly orderBy: readonly OrderItem[];
  readonly limit: number | null;
  readonly offset: number | null;
}

/** Date literals of the SOQL reference (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm). */
export const DATE_CONSTANTS = new Set([
  'YESTERDAY',
  'TODAY',
  'TOMORROW',
  'LAST_WEEK',
  'THIS_WEEK',
  'NEXT_WEEK',
  'LAST_MONTH',
  'THIS_MONTH',
  'NEXT_MONTH',
  'LAST_90_DAYS',
  'NEXT_90_DAYS',
  'THIS_YEAR',
  'LAST_YEAR',
]);
export const DATE_CONSTANTS_N = new Set(['LAST_N_DAYS', 'NEXT_N_DAYS', 'N_DAYS_AGO', 'LAST_N_WEEKS', 'NEXT_N_WEEKS', 'LAST_N_MONTHS']);

type TokenKind = 'ident' | 'string' | 'number' | 'datetime' | 'date' | 'op' | 'eof';
interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  readonly pos: number;
  readonly value?: string | number;
}

const DATETIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,3})?(Z|[+-]\d{2}:?\d{2})/;
const DATE = /^\d{4}-\d{2}-\d{2}(?![\dT])/;
const NUMBER = /^-?\d+(\.\d+)?/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPS = ['!=', '<>', '<=', '>=', '=', '<', '>', '(', ')', ',', '.', ':'];
const ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  t: '\t',
  b: '\b',
  f: '\f',
  '"': '"',
  "'": "'",
  '\\': '\\',
  '%': '\\%',
  _: '\\_',
};

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (; j < text.length && text[j] !== "'"; j++) {
        if (text[j] === '\\') {
          const escaped = ESCAPES[text[j + 1] ?? ''];
          if (escaped === undefined)
            throw soqlError(
              'MALFORMED_QUERY',
              text,
              j,
              `Invalid string literal '${text.slice(i, j + 2)}'. Illegal character sequence '\\${text[j + 1] ?? ''}' in string literal.`,
            );
          value += escaped;
          j++;
        } else value += text[j];
      }
      if (j >= text.length) throw soqlError('MALFORMED_QUERY', text, i, `line 1:${i} mismatched character '<EOF>' expecting '''`);
      tokens.push({ kind: 'string', text: text.slice(i, j + 1), pos: i, value });
      i = j + 1;
      continue;
    }
    const dt = DATETIME.exec(rest);
    if (dt) {
      const [, y, mo, d, h, mi, s, frac, zone] = dt;
      const offset = zone === 'Z' ? 'Z' : `${zone!.slice(0, 3)}:${zone!.slice(-2)}`;
      const ms = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}${frac ?? ''}${offset}`);
      if (Number.isNaN(ms)) throw soqlError('MALFORMED_QUERY', text, i, `line 1:${i} no viable alternative at character '${c}'`);
      tokens.push({ kind: 'datetime', text: dt[0], pos: i, value: ms });
      i += dt[0].length;
      continue;
    }
    const date = DATE.exec(rest);
    if (date) {
      tokens.push({ kind: 'date', text: date[0], pos: i, value: date[0] });
      i += date[0].length;
      continue;
    }
    const num = NUMBER.exec(rest);
    if (num && (c !== '-' || tokens.at(-1)?.kind === 'op')) {
      tokens.push({ kind: 'number', text: num[0], pos: i, value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const ident = IDENT.exec(rest);
    if (ident) {
      tokens.push({ kind: 'ident', text: ident[0], pos: i });
      i += ident[0].length;
      continue;
    }
    const op = OPS.find((o) => rest.startsWith(o));
    if (!op) throw soqlError('MALFORMED_QUERY', text, i, `line 1:${i} no viable alternative at character '${c}'`);
    tokens.push({ kind: 'op', text: op === '<>' ? '!=' : op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'eof', text: '<EOF>', pos: text.length });
  return tokens;
}

class Parser {
  private i = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  private get peek(): Token {
    return this.tokens[this.i]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private isWord(word: string, token = this.peek): boolean {
    return token.kind === 'ident' && token.text.toUpperCase() === word;
  }
  private unexpected(token = this.peek): never {
    throw soqlError('MALFORMED_QUERY', this.text, token.pos, `unexpected token: ${token.kind === 'eof' ? '<EOF>' : `'${token.text}'`}`);
  }
  private expectWord(word: string): Token {
    if (!this.isWord(word)) this.unexpected();
    return this.next();
  }
  private expectOp(op: string): Token {
    if (this.peek.kind !== 'op' || this.peek.text !== op) this.unexpected();
    return this.next();
  }
  private acceptWord(word: string): boolean {
    if (!this.isWord(word)) return false;
    this.i++;
    return true;
  }

  parse(): SoqlQuery {
    this.expectWord('SELECT');
    const select: SelectItem[] = [this.selectItem()];
    while (this.peek.kind === 'op' && this.peek.text === ',') {
      this.next();
      select.push(this.selectItem());
    }
    this.expectWord('FROM');
    const fromToken = this.next();
    if (fromToken.kind !== 'ident') this.unexpected(fromToken);
    let where: Condition | null = null;
    if (this.acceptWord('WHERE')) where = this.condition();
    const orderBy: OrderItem[] = [];
    if (this.acceptWord('ORDER')) {
      this.expectWord('BY');
      do orderBy.push(this.orderItem());
      while (this.peek.kind === 'op' && this.peek.text === ',' && this.next());
    }
    let limit: number | null = null;
    let offset: number | null = null;
    if (this.acceptWord('LIMIT')) limit = this.integer();
    if (this.acceptWord('OFFSET')) {
      const at = this.peek;
      offset = this.integer();
      // https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_offset.htm
      if (offset > 2000) throw soqlError('NUMBER_OUTSIDE_VALID_RANGE', this.text, at.pos, 'Maximum SOQL offset allowed is 2000');
    }
    if (this.peek.kind !== 'eof') this.unexpected();
    return { text: this.text, select, from: { name: fromToken.text, pos: fromToken.pos }, where, orderBy, limit, offset };
  }

  private integer(): number {
    const token = this.next();
    if (token.kind !== 'number' || !Number.isInteger(token.value) || (token.value as number) < 0) this.unexpected(token);
    return token.value as number;
  }

  private path(): Path {
    const first = this.next();
    if (first.kind !== 'ident') this.unexpected(first);
    const parts = [first.text];
    while (this.peek.kind === 'op' && this.peek.text === '.') {
      this.next();
      const part = this.next();
      if (part.kind !== 'ident') this.unexpected(part);
      parts.push(part.text);
    }
    return { parts, pos: first.pos };
  }

  private selectItem(): SelectItem {
    const token = this.peek;
    if (this.isWord('COUNT') && this.tokens[this.i + 1]?.text === '(') {
      this.i += 2;
      const path = this.peek.kind === 'op' && this.peek.text === ')' ? null : this.path();
      this.expectOp(')');
      return { kind: 'count', path, pos: token.pos };
    }
    // Subqueries, TYPEOF, other aggregate and format functions are not emulated.
    if (token.kind !== 'ident' || this.tokens[this.i + 1]?.text === '(') this.unexpected(token);
    return { kind: 'field', path: this.path() };
  }

  private orderItem(): OrderItem {
    const path = this.path();
    let descending = false;
    if (this.acceptWord('DESC')) descending = true;
    else this.acceptWord('ASC');
    let nullsLast = descending;
    if (this.acceptWord('NULLS')) {
      if (this.acceptWord('LAST')) nullsLast = true;
      else {
        this.expectWord('FIRST');
        nullsLast = false;
      }
    }
    return { path, descending, nullsLast };
  }

  /** AND and OR may not be mixed without parentheses (the SOQL reference's "Logical operators"). */
  private condition(): Condition {
    const items = [this.unary()];
    let joiner: 'AND' | 'OR' | null = null;
    while (this.isWord('AND') || this.isWord('OR')) {
      const word = this.peek.text.toUpperCase() as 'AND' | 'OR';
      if (joiner && joiner !== word) this.unexpected();
      joiner = word;
      this.next();
      items.push(this.unary());
    }
    return items.length === 1 ? items[0]! : { kind: joiner === 'AND' ? 'and' : 'or', items };
  }

  private unary(): Condition {
    if (this.acceptWord('NOT')) return { kind: 'not', item: this.unary() };
    if (this.peek.kind === 'op' && this.peek.text === '(') {
      this.next();
      const inner = this.condition();
      this.expectOp(')');
      return inner;
    }
    const path = this.path();
    if (this.isWord('NOT') && this.isWord('IN', this.tokens[this.i + 1])) {
      this.i += 2;
      return { kind: 'in', path, negate: true, values: this.list() };
    }
    if (this.acceptWord('IN')) return { kind: 'in', path, negate: false, values: this.list() };
    if (this.acceptWord('LIKE')) return { kind: 'compare', path, op: 'LIKE', value: this.literal() };
    const op = this.next();
    if (op.kind !== 'op' || !['=', '!=', '<', '<=', '>', '>='].includes(op.text)) this.unexpected(op);
    return { kind: 'compare', path, op: op.text as Operator, value: this.literal() };
  }

  private list(): Literal[] {
    this.expectOp('(');
    // A semi-join (`IN (SELECT ...)`) is not emulated.
    if (this.isWord('SELECT')) this.unexpected();
    const values = [this.literal()];
    while (this.peek.kind === 'op' && this.peek.text === ',') {
      this.next();
      values.push(this.literal());
    }
    this.expectOp(')');
    return values;
  }

  private literal(): Literal {
    const token = this.next();
    const pos = token.pos;
    switch (token.kind) {
      case 'string':
        return { kind: 'string', value: token.value as string, pos };
      case 'number':
        return { kind: 'number', value: token.value as number, pos };
      case 'datetime':
        return { kind: 'datetime', value: token.value as number, pos };
      case 'date':
        return { kind: 'date', value: token.value as string, pos };
      case 'ident': {
        const word = token.text.toUpperCase();
        if (word === 'TRUE' || word === 'FALSE') return { kind: 'boolean', value: word === 'TRUE', pos };
        if (word === 'NULL') return { kind: 'null', pos };
        if (DATE_CONSTANTS.has(word)) return { kind: 'dateConstant', name: word, n: null, pos };
        if (DATE_CONSTANTS_N.has(word)) {
          this.expectOp(':');
          return { kind: 'dateConstant', name: word, n: this.integer(), pos };
        }
        return this.unexpected(token);
      }
      default:
        return this.unexpected(token);
    }
  }
}

/** Parses a SOQL statement; throws an {@link ApiError} (MALFORMED_QUERY) where it leaves the subset. */
export function parseSoql(text: string): SoqlQuery {
  return new Parser(text, tokenize(text)).parse();
}
