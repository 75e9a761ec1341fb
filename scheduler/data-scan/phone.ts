import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

// Phone numbers in the shapes people write them, each then checked against its country's numbering plan
// (libphonenumber's metadata: length and number ranges), so that dates, order and card numbers are not
// counted. A shape needs a '+' or separators: a bare run of digits is never a phone number here.

// International: '+', the country code and the number, either together (E.164) or in groups separated by
// one space, dash or dot, the area code possibly in parentheses.
const INTERNATIONAL = /(?<![\w+])\+(?:\d{7,15}|\d{1,3}(?:[ .-](?:\(\d{1,5}\)|\d{1,10})){2,6})(?![\w-]|[ .]\d)/g;

// North American (NANP) national: (415) 555-2671, 415-555-2671, 415.555.2671, 1-800-555-0199.
const NANP = /(?<![\w+.-])(?<!\+\d{1,3}[ .-]?)(?:1[ .-])?(?:\(\d{3}\) ?\d{3}-|\d{3}-\d{3}-|\d{3}\.\d{3}\.)\d{4}(?![\w-]|\.\d)/g;

// Neither national shape starts inside an international number.
// UK national: a trunk 0 and groups separated by spaces: 020 7946 0958, 0161 496 0000, 07700 900123.
const UK = /(?<![\w+.-])(?<!\+\d{1,3}[ .-]?)(?:0\d{2,4}|\(0\d{2,4}\)) \d{3,4} ?\d{3,4}(?![\w-]|[ .]\d)/g;

function isValid(candidate: string, country?: CountryCode): boolean {
  return parsePhoneNumberFromString(candidate, country)?.isValid() ?? false;
}

/** Phone numbers written internationally (any country) or in the US and UK national formats. */
export function findPhoneNumbers(text: string): number {
  let count = 0;
  for (const match of text.matchAll(INTERNATIONAL)) if (isValid(match[0])) count++;
  for (const match of text.matchAll(NANP)) if (isValid(match[0], 'US')) count++;
  for (const match of text.matchAll(UK)) if (isValid(match[0], 'GB')) count++;
  return count;
}
