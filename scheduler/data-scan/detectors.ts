import { isCardNumber } from './card.js';
import { IBAN_LENGTHS, isIban } from './iban.js';
import { findPassportNumbers, findUkDrivingLicences } from './identity-documents.js';
import { findPhoneNumbers } from './phone.js';
import {
  AZURE_STORAGE_KEY,
  findConnectionStrings,
  GITHUB_TOKEN,
  GOOGLE_API_KEY,
  hasAzureKeyLength,
  hasGithubChecksum,
  SLACK_TOKEN,
  STRIPE_KEY,
} from './secrets.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

/** Finds one kind of sensitive information in text. */
export interface Detector {
  readonly type: SensitiveDataType;
  /** How many matches `text` holds, each at its own position (matches never overlap); never throws. */
  find(text: string): number;
}

// Every pattern here runs in time linear in the text: each starts only where a lookbehind allows (not
// inside a run of the characters it consumes), and every repeated group is bounded, so a failed attempt
// costs a constant and the same run is never retried from each of its positions.

/** Counts the matches of a global `pattern` that `isValid` accepts. */
function countMatches(pattern: RegExp, text: string, isValid: (match: string) => boolean = () => true): number {
  let count = 0;
  for (const match of text.matchAll(pattern)) if (isValid(match[0])) count++;
  return count;
}

/** A card number in one of the shapes people write: 13–19 digits together, or 4-4-4-4(-3)/4-6-5 groups. */
function cardShapes(separator: string): string {
  const s = separator;
  return String.raw`\d{4}${s}\d{4}${s}\d{4}${s}(?:\d{4}${s}\d{1,3}|\d{1,4})|\d{4}${s}\d{6}${s}\d{4,5}`;
}
// Not part of a longer run of digits: no digit right before or after, nor one joined by the same separator.
const CARD_NUMBER = new RegExp(
  String.raw`(?<!\d)(?:\d{13,19}(?!\d)` +
    String.raw`|(?<!\d )(?:${cardShapes(' ')})(?! ?\d)` +
    String.raw`|(?<!\d-)(?:${cardShapes('-')})(?!-?\d))`,
  'g',
);

// Area 000, 666 and 900–999, group 00 and serial 0000 are never issued
// (https://www.ssa.gov/employer/randomization.html); the two numbers below were printed in advertisements.
const SSN_AREA_GROUP_SERIAL = (s: string): string => String.raw`(?!000|666|9)\d{3}${s}(?!00)\d{2}${s}(?!0000)\d{4}`;
const US_SSN = new RegExp(
  String.raw`(?<![\w-])(?:${SSN_AREA_GROUP_SERIAL('-')}|(?<!\d )${SSN_AREA_GROUP_SERIAL(' ')}(?! \d))(?![\w-])`,
  'g',
);
const ADVERTISED_SSNS = new Set(['078051120', '219099999']);

// Country code, check digits, then the BBAN in groups of four, either all together or all separated by one
// space (the paper format). It may run past the IBAN when the next word is four alphanumerics; see ibanLength.
const IBAN_CANDIDATE = /(?<![A-Za-z0-9])[A-Z]{2}\d{2}( ?)[A-Z0-9]{4}(?:\1[A-Z0-9]{4}){1,6}(?:\1[A-Z0-9]{1,4})?(?![A-Za-z0-9])/g;

/** The length of the IBAN `candidate` starts with (spaces included), or 0 when it starts with none. */
function ibanLength(candidate: string): number {
  const length = IBAN_LENGTHS[candidate.slice(0, 2)];
  if (length === undefined) return 0;
  // Cut the candidate at the country's length; in the paper format the cut must fall between groups.
  let end = 0;
  for (let chars = 0; chars < length && end < candidate.length; end++) if (candidate[end] !== ' ') chars++;
  if (end < candidate.length && candidate[end] !== ' ') return 0;
  return isIban(candidate.slice(0, end).replaceAll(' ', '')) ? end : 0;
}

function findIbans(text: string): number {
  const candidates = new RegExp(IBAN_CANDIDATE);
  let count = 0;
  for (let match = candidates.exec(text); match; match = candidates.exec(text)) {
    const length = ibanLength(match[0]);
    if (length > 0) count++;
    // Go on after the IBAN, or inside a candidate that held none: a later group may start one.
    candidates.lastIndex = match.index + Math.max(length, 1);
  }
  return count;
}

// RFC 5322 dot-atom local part (at most 64 characters a part, per RFC 5321) and a DNS host name with a
// letters-only top-level domain; quoted local parts and IP literals are left out. It starts where no local
// part could have started earlier (so not after `x` nor `x.`), but may follow an ellipsis.
const ATEXT = "A-Za-z0-9!#$%&'*+/=?^_`{|}~\\-";
const EMAIL_ADDRESS = new RegExp(
  `(?<![${ATEXT}])(?<![${ATEXT}]\\.)[${ATEXT}]{1,64}(?:\\.[${ATEXT}]{1,64}){0,16}@` +
    String.raw`(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.){1,16}[A-Za-z]{2,63}(?![A-Za-z0-9-]|\.[A-Za-z0-9-])`,
  'g',
);

// Long-term (AKIA) and temporary (ASIA) access key IDs:
// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids
const AWS_ACCESS_KEY = /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g;

// PEM (RFC 7468) and OpenSSH private keys, and OpenPGP secret key blocks (RFC 4880 armor).
const PRIVATE_KEY = /-----BEGIN (?:(?:RSA|EC|DSA|OPENSSH|ENCRYPTED) )?PRIVATE KEY-----|-----BEGIN PGP PRIVATE KEY BLOCK-----/g;

// header.payload.signature in base64url (RFC 7519); a JSON header starts with '{', which encodes to 'e'.
// The signature is empty for unsecured JWTs. The header is decoded and must be a JSON object with `alg`.
const JWT = /(?<![A-Za-z0-9_.-])e[A-Za-z0-9_-]{9,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g;

function hasJwtHeader(token: string): boolean {
  const segment = token.slice(0, token.indexOf('.'));
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

// Tokens whose providers give them a fixed prefix so that they can be found in leaked text.
const API_TOKEN_SHAPES = [
  'gh[pousr]_[A-Za-z0-9]{36}', // GitHub: https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/
  'github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}', // GitHub fine-grained personal access token
  'glpat-[A-Za-z0-9_-]{20}', // GitLab personal access token
  'xox[abpr]-[A-Za-z0-9-]{10,250}', // Slack bot, app, user and refresh tokens
  '(?:sk|rk)_live_[A-Za-z0-9]{24,247}', // Stripe live secret and restricted keys
  'AIza[A-Za-z0-9_-]{35}', // Google API key
  String.raw`SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}`, // SendGrid API key
  'npm_[A-Za-z0-9]{36}', // npm access token
  'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}', // Shopify access tokens
];
const API_TOKEN = new RegExp(`(?<![A-Za-z0-9_-])(?:${API_TOKEN_SHAPES.join('|')})(?![A-Za-z0-9_-])`, 'g');

/** Every detector a data scan runs, one per {@link SensitiveDataType}. */
export const DETECTORS: readonly Detector[] = [
  { type: SensitiveDataType.API_TOKEN, find: (text) => countMatches(API_TOKEN, text) },
  { type: SensitiveDataType.AWS_ACCESS_KEY, find: (text) => countMatches(AWS_ACCESS_KEY, text) },
  { type: SensitiveDataType.AZURE_STORAGE_KEY, find: (text) => countMatches(AZURE_STORAGE_KEY, text, hasAzureKeyLength) },
  {
    type: SensitiveDataType.CREDIT_CARD_NUMBER,
    find: (text) => countMatches(CARD_NUMBER, text, (match) => isCardNumber(match.replace(/[ -]/g, ''))),
  },
  { type: SensitiveDataType.DATABASE_CONNECTION_STRING, find: findConnectionStrings },
  { type: SensitiveDataType.EMAIL_ADDRESS, find: (text) => countMatches(EMAIL_ADDRESS, text) },
  { type: SensitiveDataType.GITHUB_TOKEN, find: (text) => countMatches(GITHUB_TOKEN, text, hasGithubChecksum) },
  { type: SensitiveDataType.GOOGLE_API_KEY, find: (text) => countMatches(GOOGLE_API_KEY, text) },
  { type: SensitiveDataType.IBAN, find: findIbans },
  { type: SensitiveDataType.JWT, find: (text) => countMatches(JWT, text, hasJwtHeader) },
  { type: SensitiveDataType.PASSPORT_NUMBER, find: findPassportNumbers },
  { type: SensitiveDataType.PHONE_NUMBER, find: findPhoneNumbers },
  { type: SensitiveDataType.PRIVATE_KEY, find: (text) => countMatches(PRIVATE_KEY, text) },
  { type: SensitiveDataType.SLACK_TOKEN, find: (text) => countMatches(SLACK_TOKEN, text) },
  { type: SensitiveDataType.STRIPE_KEY, find: (text) => countMatches(STRIPE_KEY, text) },
  { type: SensitiveDataType.UK_DRIVING_LICENCE, find: findUkDrivingLicences },
  {
    type: SensitiveDataType.US_SSN,
    find: (text) => countMatches(US_SSN, text, (match) => !ADVERTISED_SSNS.has(match.replace(/[ -]/g, ''))),
  },
];
