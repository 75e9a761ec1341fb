/** A card scheme: the issuer identification number (IIN) ranges it owns and the lengths it issues. */
interface CardScheme {
  readonly name: string;
  /** Prefixes as `'4'` or inclusive ranges of equal width as `'2221-2720'`. */
  readonly prefixes: readonly string[];
  readonly lengths: readonly number[];
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// IIN ranges as the schemes publish them; see https://en.wikipedia.org/wiki/Payment_card_number#Issuer_identification_number_(IIN).
// Only schemes whose numbers are 13–19 digits long; a number outside every range is not a card number.
const SCHEMES: readonly CardScheme[] = [
  { name: 'Visa', prefixes: ['4'], lengths: [13, 16, 19] },
  { name: 'Mastercard', prefixes: ['51-55', '2221-2720'], lengths: [16] },
  { name: 'American Express', prefixes: ['34', '37'], lengths: [15] },
  { name: 'Discover', prefixes: ['6011', '644-649', '65', '622126-622925'], lengths: range(16, 19) },
  { name: 'Diners Club', prefixes: ['300-305', '3095', '36', '38-39'], lengths: range(14, 19) },
  { name: 'JCB', prefixes: ['3528-3589'], lengths: range(16, 19) },
  { name: 'UnionPay', prefixes: ['62'], lengths: range(16, 19) },
  { name: 'Maestro', prefixes: ['5018', '5020', '5038', '5893', '6304', '6759', '6761-6763'], lengths: range(13, 19) },
  { name: 'Mir', prefixes: ['2200-2204'], lengths: range(16, 19) },
  { name: 'RuPay', prefixes: ['60', '65', '81', '82', '508'], lengths: [16] },
];

interface PrefixRange {
  readonly width: number;
  readonly from: number;
  readonly to: number;
  readonly lengths: ReadonlySet<number>;
}

const PREFIX_RANGES: readonly PrefixRange[] = SCHEMES.flatMap((scheme) =>
  scheme.prefixes.map((prefix) => {
    const [from, to = from] = prefix.split('-') as [string, string?];
    return { width: from.length, from: Number(from), to: Number(to), lengths: new Set(scheme.lengths) };
  }),
);

/** Whether `digits` (digits only) starts with an IIN of a known scheme that issues numbers of its length. */
export function hasKnownIin(digits: string): boolean {
  return PREFIX_RANGES.some((r) => {
    const prefix = Number(digits.slice(0, r.width));
    return prefix >= r.from && prefix <= r.to && r.lengths.has(digits.length);
  });
}

/** The Luhn (mod 10) check every payment card number carries in its last digit; `digits` holds digits only. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** Whether `digits` (digits only, 13–19 of them) is a plausible payment card number: known IIN and length, valid Luhn. */
export function isCardNumber(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && hasKnownIin(digits) && passesLuhn(digits);
}
