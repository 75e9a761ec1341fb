// Passport and driving licence numbers: formats with a structure (check digits, a date of birth) or, where a
// number is only digits, the word that says what it is right before it.

/** ICAO 9303 check digit: digits as themselves, A–Z as 10–35, '<' as 0, weighted 7, 3, 1 in turn, modulo 10. */
export function mrzCheckDigit(field: string): number {
  let sum = 0;
  for (let i = 0; i < field.length; i++) {
    const c = field.charCodeAt(i);
    const value = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 90 ? c - 55 : 0;
    sum += value * [7, 3, 1][i % 3]!;
  }
  return sum % 10;
}

// The second line of a passport's machine readable zone (ICAO 9303 part 4, TD3): document number and its
// check digit, nationality, birth date and check digit, sex, expiry date and check digit, optional data and
// its check digit (or '<'), then a check digit over all of them.
const MRZ_PASSPORT_LINE = /(?<![A-Z0-9<])[A-Z0-9<]{9}\d[A-Z<]{3}\d{6}\d[MFX<]\d{6}\d[A-Z0-9<]{14}[\d<]\d(?![A-Z0-9<])/g;

const MRZ_DATES = /\d{7}[MFX<]\d{7}/;

/** Whether every check digit of a TD3 second line holds. */
export function isPassportMrzLine(line: string): boolean {
  const digit = (at: number) => (line[at] === '<' ? 0 : Number(line[at]));
  const checks: [string, number][] = [
    [line.slice(0, 9), 9],
    [line.slice(13, 19), 19],
    [line.slice(21, 27), 27],
    [line.slice(28, 42), 42],
  ];
  if (!checks.every(([field, at]) => mrzCheckDigit(field) === digit(at))) return false;
  const composite = line.slice(0, 10) + line.slice(13, 20) + line.slice(21, 43);
  return mrzCheckDigit(composite) === digit(43) && !line.startsWith('<');
}

// A passport number written after the word: 9 digits (US, UK and others) or a letter and 8 digits (US Next
// Generation passports, https://travel.state.gov/content/travel/en/passports/need-passport/card.html).
const LABELLED_PASSPORT_NUMBER =
  /(?<![A-Za-z])passport(?:[ \t]{1,4}(?:no\.?|number|num\.?|#|id))?[ \t]{0,4}[:#=]?[ \t]{0,4}(?:\d{9}|[A-Z]\d{8})(?![A-Za-z0-9])/gi;

/** Passports: validated machine readable zones, and passport numbers written after the word "passport". */
export function findPassportNumbers(text: string): number {
  let count = 0;
  // Birth date and check digit, sex, expiry date and check digit: rare in text, and cheaper to look for
  // than a zone's start at every word.
  if (MRZ_DATES.test(text)) for (const match of text.matchAll(MRZ_PASSPORT_LINE)) if (isPassportMrzLine(match[0])) count++;
  count += [...text.matchAll(LABELLED_PASSPORT_NUMBER)].length;
  return count;
}

// UK (Great Britain) driving licence number, 16 characters (DVLA): the first five letters of the surname,
// padded with 9s; the decade digit of the year of birth; the month of birth (plus 50 for women); the day of
// birth; the year digit; the first two initials, padded with 9; an arbitrary digit; two check letters.
const UK_DRIVING_LICENCE =
  /(?<![A-Za-z0-9])[A-Z](?:[A-Z]{4}|[A-Z]{3}9|[A-Z]{2}99|[A-Z]9{3}|9{4})\d([0156]\d)([0-3]\d)\d[A-Z][A-Z9]\d[A-Z]{2}(?![A-Za-z0-9])/g;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** UK driving licence numbers whose month and day of birth are a real date. */
export function findUkDrivingLicences(text: string): number {
  let count = 0;
  for (const match of text.matchAll(UK_DRIVING_LICENCE)) {
    const month = Number(match[1]) % 50;
    const day = Number(match[2]);
    if (month >= 1 && month <= 12 && day >= 1 && day <= DAYS_IN_MONTH[month - 1]!) count++;
  }
  return count;
}
