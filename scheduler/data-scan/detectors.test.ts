import { describe, expect, it } from 'vitest';
import { hasKnownIin, isCardNumber, passesLuhn } from './card.js';
import { DETECTORS } from './detectors.js';
import { isIban } from './iban.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

function detector(type: SensitiveDataType): (text: string) => number {
  const found = DETECTORS.find((d) => d.type === type);
  if (!found) throw new Error(`no detector for ${type}`);
  return (text) => found.find(text);
}

/** `length` deterministic alphanumerics: test tokens are built, never written out, so no secret scanner trips on this file. */
function alnum(length: number, seed = 7): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, (_, i) => chars[(i * seed + 3) % chars.length]).join('');
}

/** `partial` with the check digit that makes it pass Luhn, so a test refuses it for another reason. */
function withCheckDigit(partial: string): string {
  const digit = [...'0123456789'].find((d) => passesLuhn(partial + d));
  return partial + digit;
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('every type', () => {
  it('has exactly one detector', () => {
    expect(DETECTORS.map((d) => d.type).sort()).toEqual(Object.values(SensitiveDataType).sort());
  });
});

describe('CREDIT_CARD_NUMBER', () => {
  const find = detector(SensitiveDataType.CREDIT_CARD_NUMBER);

  it.each([
    ['Visa', '4111111111111111'],
    ['Visa, 13 digits', '4222222222222'],
    ['Visa, spaced', '4111 1111 1111 1111'],
    ['Visa, dashed', '4111-1111-1111-1111'],
    ['Mastercard 51–55', '5555555555554444'],
    ['Mastercard 2221–2720', '2223003122003222'],
    ['American Express', '378282246310005'],
    ['American Express, 4-6-5', '3782 822463 10005'],
    ['Discover', '6011111111111117'],
    ['Diners Club', '30569309025904'],
    ['JCB', '3530111333300000'],
    ['UnionPay', '6200000000000005'],
    ['Maestro', '6759649826438453'],
  ])('finds a %s number', (_name, number) => {
    expect(find(number)).toBe(1);
    expect(find(`Card: ${number}, exp 12/29, CVV 123`)).toBe(1);
  });

  it.each([
    ['that fails Luhn', '4111111111111112'],
    ['that fails Luhn, spaced', '5555 5555 5555 4445'],
    ['with no known IIN', '1234567812345670'],
    ['with no known IIN (56)', withCheckDigit('560000000000000')],
    ['of a length its scheme does not issue (Amex, 16)', withCheckDigit('378282246310000')],
    ['of a length its scheme does not issue (Visa, 15)', withCheckDigit('41111111111111')],
    ['of all zeros', '0000000000000000'],
    ['too short', '411111111111'],
    ['inside a longer run of digits', '94111111111111111'],
    ['followed by more digits', '41111111111111110000'],
    ['inside a longer spaced run', '12 4111 1111 1111 1111'],
    ['followed by another spaced group', '4111 1111 1111 1111 2'],
    ['inside a dashed identifier', '2024-4111-1111-1111-1111'],
    ['with mixed separators', '4111-1111 1111-1111'],
    ['with irregular groups', '41 11111 1111 11111'],
  ])('refuses a number %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });

  it('counts each number once', () => {
    expect(find('4111111111111111, 5555 5555 5555 4444; 378282246310005\n4111111111111111')).toBe(4);
  });

  it('checks Luhn and IIN ranges', () => {
    expect(passesLuhn('79927398713')).toBe(true);
    expect(passesLuhn('79927398710')).toBe(false);
    expect(hasKnownIin('2720990000000000')).toBe(true);
    expect(hasKnownIin('2721000000000000')).toBe(false);
    expect(hasKnownIin('5600000000000000')).toBe(false);
    expect(isCardNumber('4111111111111111')).toBe(true);
    expect(isCardNumber('41111111111111111111')).toBe(false);
  });
});

describe('US_SSN', () => {
  const find = detector(SensitiveDataType.US_SSN);

  it.each(['123-45-6789', '123 45 6789', 'SSN: 123-45-6789.', 'ssn=665-01-0001', '899-99-9999'])('finds %j', (text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['area 000', '000-12-3456'],
    ['area 666', '666-12-3456'],
    ['area 900–999', '900-12-3456'],
    ['area 999', '999-12-3456'],
    ['group 00', '123-00-6789'],
    ['serial 0000', '123-45-0000'],
    ['an advertised number', '078-05-1120'],
    ['mixed separators', '123-45 6789'],
    ['no separators', '123456789'],
    ['a longer number before', '1123-45-6789'],
    ['a longer number after', '123-45-67890'],
    ['a dashed identifier', 'INV-123-45-6789'],
    ['a spaced run of digits', '1 123 45 6789'],
  ])('refuses %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });

  it('counts each number once', () => {
    expect(find('123-45-6789\n234 56 7890\n123-45-6789')).toBe(3);
  });
});

describe('IBAN', () => {
  const find = detector(SensitiveDataType.IBAN);

  it.each([
    'DE89370400440532013000',
    'DE89 3704 0044 0532 0130 00',
    'GB82WEST12345698765432',
    'GB82 WEST 1234 5698 7654 32',
    'FR1420041010050500013M02606',
    'NL91ABNA0417164300',
    'BE68539007547034',
    'CH9300762011623852957',
    'NO9386011117947',
    'IT60X0542811101000000123456',
    'PL61109010140000071219812874',
  ])('finds %j', (iban) => {
    expect(find(iban)).toBe(1);
    expect(find(`Pay to ${iban}, thanks.`)).toBe(1);
  });

  it.each([
    ['a wrong check digit', 'DE88370400440532013000'],
    ['a wrong check digit, paper format', 'GB83 WEST 1234 5698 7654 32'],
    ['a changed BBAN', 'DE89370400440532013001'],
    ['a length wrong for the country', 'DE8937040044053201300'],
    ['a country without IBANs', 'US64SVBKUS6S3300958879'],
    ['lowercase letters', 'gb82west12345698765432'],
    ['letters joined before it', 'XDE89370400440532013000'],
    ['groups of three', 'DE89 370 400 440 532 013 000'],
  ])('refuses one with %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });

  it('refuses check digits outside 02–98 even when the remainder is 1', () => {
    // Find a German BBAN whose check digits are 02: 99 is the same modulo 97, so only the range check refuses it.
    const numeric = (s: string): bigint => BigInt([...s].map((c) => (c >= 'A' ? String(c.charCodeAt(0) - 55) : c)).join(''));
    let bban = '';
    for (let account = 0; ; account++) {
      bban = `37040044${String(account).padStart(10, '0')}`;
      if (98n - (numeric(`${bban}DE00`) % 97n) === 2n) break;
    }
    expect(isIban(`DE02${bban}`)).toBe(true);
    expect(isIban(`DE99${bban}`)).toBe(false);
  });

  it('separates IBANs written one after another', () => {
    const iban = 'ES91 2100 0418 4502 0005 1332';
    expect(find(`${iban} ${iban}`)).toBe(2);
    expect(find(`${iban} 2024`)).toBe(1);
    expect(find('ES9121000418450200051332 DE89370400440532013000')).toBe(2);
  });
});

describe('EMAIL_ADDRESS', () => {
  const find = detector(SensitiveDataType.EMAIL_ADDRESS);

  it.each([
    'john.doe@example.com',
    'a+tag@sub.example.co.uk',
    "o'brien@example.ie",
    'Contact: x@y.io.',
    '<jane_doe-1@mail.example-corp.com>',
    '...john@example.com',
  ])('finds %j', (text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    'john@localhost',
    'a@b.c',
    'john@@example.com',
    'not an email @ example.com',
    '@example.com',
    'john@-example.com',
    'john@example.123',
    `${'a'.repeat(65)}@example.com`,
  ])('refuses %j', (text) => {
    expect(find(text)).toBe(0);
  });

  it('counts each address once', () => {
    expect(find('to: a@example.com, b@example.com; cc: a@example.com')).toBe(3);
  });
});

describe('AWS_ACCESS_KEY', () => {
  const find = detector(SensitiveDataType.AWS_ACCESS_KEY);
  const body = 'IOSFODNN7EXAMPLE'; // AWS's documented example key id

  it.each([`AKIA${body}`, `ASIA${body}`, `aws_access_key_id = AKIA${body}`, `"AKIA${body}"`])('finds %j', (text) => {
    expect(find(text)).toBe(1);
  });

  it.each([`AKIA${body.slice(1)}`, `AKIA${body}X`, `XAKIA${body}`, `akia${body.toLowerCase()}`, `AGPA${body}`])('refuses %j', (text) => {
    expect(find(text)).toBe(0);
  });
});

describe('PRIVATE_KEY', () => {
  const find = detector(SensitiveDataType.PRIVATE_KEY);
  const begin = (label: string): string => `-----BEGIN ${label}-----`;

  it.each(['', 'RSA ', 'EC ', 'OPENSSH ', 'ENCRYPTED ', 'DSA '])('finds a %j private key header', (kind) => {
    expect(find(`${begin(`${kind}PRIVATE KEY`)}\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END ${kind}PRIVATE KEY-----`)).toBe(1);
  });

  it('finds a PGP private key block', () => {
    expect(find(begin('PGP PRIVATE KEY BLOCK'))).toBe(1);
  });

  it.each(['PUBLIC KEY', 'CERTIFICATE', 'RSA PUBLIC KEY', 'FOO PRIVATE KEY'])('refuses %j', (label) => {
    expect(find(begin(label))).toBe(0);
  });

  it('counts each key once', () => {
    expect(find(`${begin('RSA PRIVATE KEY')}\n...\n${begin('EC PRIVATE KEY')}`)).toBe(2);
  });
});

describe('JWT', () => {
  const find = detector(SensitiveDataType.JWT);
  const payload = base64url({ sub: '1234567890', name: 'John Doe', iat: 1516239022 });
  const signature = alnum(43);

  it.each([
    ['HS256', `${base64url({ alg: 'HS256', typ: 'JWT' })}.${payload}.${signature}`],
    ['unsecured (alg none, no signature)', `${base64url({ alg: 'none' })}.${payload}.`],
    ['in a header', `Authorization: Bearer ${base64url({ typ: 'JWT', alg: 'RS256' })}.${payload}.${signature}`],
  ])('finds a %s token', (_name, text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['a header without alg', `${base64url({ typ: 'JWT' })}.${payload}.${signature}`],
    ['a header that is not JSON', `${Buffer.from('{not json at all').toString('base64url')}.${payload}.${signature}`],
    ['a header that is a JSON array', `${base64url(['alg'])}.${payload}.${signature}`],
    ['two segments', `${base64url({ alg: 'HS256' })}.${payload}`],
    ['dotted words', 'eventually.something.happens'],
  ])('refuses %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });
});

describe('API_TOKEN', () => {
  const find = detector(SensitiveDataType.API_TOKEN);

  it.each([
    ['GitHub personal', `ghp_${alnum(36)}`],
    ['GitHub OAuth', `gho_${alnum(36)}`],
    ['GitHub server-to-server', `ghs_${alnum(36)}`],
    ['GitHub fine-grained', `github_pat_${alnum(22)}_${alnum(59, 11)}`],
    ['GitLab', `glpat-${alnum(20)}`],
    ['Slack bot', `xoxb-123456789012-1234567890123-${alnum(24)}`],
    ['Slack user', `xoxp-${alnum(40)}`],
    ['Stripe live', `sk_${'live'}_${alnum(24)}`],
    ['Stripe restricted', `rk_${'live'}_${alnum(99)}`],
    ['Google', `AIza${alnum(35)}`],
    ['SendGrid', `SG.${alnum(22)}.${alnum(43, 5)}`],
    ['npm', `npm_${alnum(36)}`],
    ['Shopify', `shpat_${'0123456789abcdef'.repeat(2)}`],
  ])('finds a %s token', (_name, token) => {
    expect(find(token)).toBe(1);
    expect(find(`TOKEN="${token}"`)).toBe(1);
  });

  it.each([
    ['GitHub, too short', `ghp_${alnum(35)}`],
    ['GitHub, too long', `ghp_${alnum(37)}`],
    ['GitHub, unknown kind', `ghx_${alnum(36)}`],
    ['Slack, unknown kind', `xoxz-${alnum(40)}`],
    ['Stripe test key', `sk_${'test'}_${alnum(24)}`],
    ['Google, too short', `AIza${alnum(34)}`],
    ['joined to a word', `myghp_${alnum(36)}`],
  ])('refuses a %s', (_why, token) => {
    expect(find(token)).toBe(0);
  });
});
