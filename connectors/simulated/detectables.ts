import { createHmac } from 'node:crypto';
import type { DetectableKind, Planted } from './model.js';
import type { Rng } from './prng.js';

/**
 * Sensitive values that pass the checks a DLP engine runs (Luhn, IBAN mod 97, SSN ranges), so the
 * data scan has real things to find. Each generator takes its draws from the given stream.
 */

/** Luhn check of a digit string (spaces and dashes ignored). */
export function luhnValid(number: string): boolean {
  const digits = number.replace(/[\s-]/g, '');
  if (!/^\d{12,19}$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** The Luhn check digit that completes `partial`. */
function luhnDigit(partial: string): string {
  for (let d = 0; d <= 9; d++) if (luhnValid(`${partial}${d}`)) return String(d);
  throw new Error('unreachable: some check digit always completes a Luhn number');
}

/** A Visa, Mastercard or Amex number with a valid check digit, grouped as people write it. */
export function cardNumber(rng: Rng): string {
  const brand = rng.pick(['visa', 'mastercard', 'amex'] as const);
  const prefix = brand === 'visa' ? '4' : brand === 'mastercard' ? `5${rng.int(1, 5)}` : rng.pick(['34', '37']);
  const length = brand === 'amex' ? 15 : 16;
  const partial = prefix + rng.digits(length - prefix.length - 1);
  const full = partial + luhnDigit(partial);
  const sep = rng.pick([' ', '-', '']);
  return brand === 'amex' ? [full.slice(0, 4), full.slice(4, 10), full.slice(10)].join(sep) : (full.match(/.{4}/g) as string[]).join(sep);
}

/** A US SSN in a valid range: area not 000, 666 or 9xx; group and serial not zero. */
export function ssn(rng: Rng): string {
  let area = rng.int(1, 899);
  if (area === 666) area = 665;
  const group = rng.int(1, 99);
  const serial = rng.int(1, 9999);
  return `${String(area).padStart(3, '0')}-${String(group).padStart(2, '0')}-${String(serial).padStart(4, '0')}`;
}

/** ISO 13616 mod-97 check of an IBAN (spaces ignored). */
export function ibanValid(iban: string): boolean {
  const compact = iban.replace(/\s/g, '').toUpperCase();
  if (!/^[A-Z]{2}\d{2}[A-Z0-9]{10,30}$/.test(compact)) return false;
  return mod97(compact.slice(4) + compact.slice(0, 4)) === 1;
}

function mod97(alnum: string): number {
  let rest = 0;
  for (const ch of alnum) {
    const value = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const digit of value) rest = (rest * 10 + Number(digit)) % 97;
  }
  return rest;
}

/** A German, British or Dutch IBAN with valid check digits, in groups of four. */
export function iban(rng: Rng): string {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const country = rng.pick(['DE', 'GB', 'NL'] as const);
  const bban =
    country === 'DE' ? rng.digits(18) : country === 'GB' ? rng.chars(letters, 4) + rng.digits(14) : rng.chars(letters, 4) + rng.digits(10);
  const check = String(98 - mod97(`${bban}${country}00`)).padStart(2, '0');
  return `${country}${check}${bban}`.replace(/(.{4})/g, '$1 ').trim();
}

/** An AWS access key id (`AKIA` + 16 base32 characters). */
export function awsAccessKey(rng: Rng): string {
  return `AKIA${rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', 16)}`;
}

/** The secret that goes with an access key id (40 characters). */
export function awsSecretKey(rng: Rng): string {
  return rng.chars('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 40);
}

/** A PEM block shaped like an RSA private key (random DER-looking bytes: not a usable key). */
export function pemPrivateKey(rng: Rng): string {
  const body = Buffer.concat([Buffer.from([0x30, 0x82, 0x04, 0xa4, 0x02, 0x01, 0x00]), rng.bytes(300)]).toString('base64');
  const lines = body.match(/.{1,64}/g) as string[];
  return ['-----BEGIN RSA PRIVATE KEY-----', ...lines, '-----END RSA PRIVATE KEY-----'].join('\n');
}

/** A well-formed HS256 JWT for `subject`, signed with a seeded secret. */
export function jwt(rng: Rng, subject: string, issuedAt: number): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const head = `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode({ sub: subject, iat: Math.floor(issuedAt / 1000), scope: 'api' })}`;
  const signature = createHmac('sha256', rng.hex(32)).update(head).digest('base64url');
  return `${head}.${signature}`;
}

/** A mailbox at `domain`. */
export function emailAddress(rng: Rng, domain: string): string {
  return `${rng.chars('abcdefghijklmnopqrstuvwxyz', rng.int(4, 8))}.${rng.chars('abcdefghijklmnopqrstuvwxyz', rng.int(3, 7))}@${domain}`;
}

/** One planted value of `kind`. */
export function detectable(rng: Rng, kind: DetectableKind, context: { domain: string; subject: string; now: number }): Planted {
  switch (kind) {
    case 'CREDIT_CARD':
      return { kind, value: cardNumber(rng) };
    case 'US_SSN':
      return { kind, value: ssn(rng) };
    case 'IBAN':
      return { kind, value: iban(rng) };
    case 'EMAIL':
      return { kind, value: emailAddress(rng, context.domain) };
    case 'AWS_ACCESS_KEY':
      return { kind, value: awsAccessKey(rng) };
    case 'PRIVATE_KEY':
      return { kind, value: pemPrivateKey(rng) };
    case 'JWT':
      return { kind, value: jwt(rng, context.subject, context.now) };
    default: {
      const never: never = kind;
      throw new Error(`unknown detectable kind ${String(never)}`);
    }
  }
}
