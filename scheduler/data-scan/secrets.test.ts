import zlib from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DETECTORS } from './detectors.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

function detector(type: SensitiveDataType): (text: string) => number {
  const found = DETECTORS.find((d) => d.type === type);
  if (!found) throw new Error(`no detector for ${type}`);
  return (text) => found.find(text);
}

/** `length` deterministic alphanumerics: test secrets are built, never written out, so no secret scanner trips on this file. */
function alnum(length: number, seed = 7): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from({ length }, (_, i) => chars[(i * seed + 3) % chars.length]).join('');
}

function base62(value: number, width: number): string {
  const digits = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  let out = '';
  for (let v = value; v > 0; v = Math.floor(v / 62)) out = digits[v % 62] + out;
  return out.padStart(width, '0');
}

/** A classic GitHub token whose checksum holds: 30 random characters and their CRC32 in base62. */
const githubToken = (kind: string, seed = 7): string => {
  const random = alnum(30, seed);
  return `gh${kind}_${random}${base62(zlib.crc32(random), 6)}`;
};

describe('GITHUB_TOKEN', () => {
  const find = detector(SensitiveDataType.GITHUB_TOKEN);

  it.each(['p', 'o', 'u', 's', 'r'])('finds a gh%s_ token whose checksum holds', (kind) => {
    expect(find(githubToken(kind))).toBe(1);
    expect(find(`export GITHUB_TOKEN="${githubToken(kind, 11)}"`)).toBe(1);
  });

  it('finds a fine-grained personal access token by its shape', () => {
    expect(find(`token: github_pat_${alnum(22)}_${alnum(59, 11)}`)).toBe(1);
  });

  it.each([
    ['a wrong checksum', `${githubToken('p').slice(0, -1)}${githubToken('p').endsWith('0') ? '1' : '0'}`],
    ['a made-up token', `ghp_${alnum(36)}`],
    ['an unknown kind', githubToken('x')],
    ['one character more', `${githubToken('p')}A`],
    ['a word joined before it', `my${githubToken('p')}`],
  ])('refuses %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });
});

describe('SLACK_TOKEN', () => {
  const find = detector(SensitiveDataType.SLACK_TOKEN);

  it.each([
    ['bot', `xoxb-123456789012-1234567890123-${alnum(24)}`],
    ['user', `xoxp-123456789012-123456789012-123456789012-${'0123456789abcdef'.repeat(2)}`],
    ['app', `xoxa-2-${alnum(40)}`],
    ['refresh', `xoxr-1-${alnum(40)}`],
    ['session', `xoxs-12345-${alnum(30)}`],
  ])('finds a %s token', (_name, token) => {
    expect(find(`SLACK=${token}`)).toBe(1);
  });

  it.each([`xoxz-123-${alnum(24)}`, `xoxb-${alnum(24)}`, 'xoxb-123-short', `axoxb-123-${alnum(24)}`])('refuses %j', (text) => {
    expect(find(text)).toBe(0);
  });
});

describe('GOOGLE_API_KEY and STRIPE_KEY', () => {
  const google = detector(SensitiveDataType.GOOGLE_API_KEY);
  const stripe = detector(SensitiveDataType.STRIPE_KEY);

  it('finds Google API keys of exactly 39 characters', () => {
    expect(google(`key=AIza${alnum(35)}&q=x`)).toBe(1);
    expect(google(`AIza${alnum(34)}`)).toBe(0);
    expect(google(`AIza${alnum(36)}`)).toBe(0);
  });

  it('finds live secret and restricted keys, not test keys', () => {
    expect(stripe(`STRIPE_SECRET=sk_${'live'}_${alnum(24)}`)).toBe(1);
    expect(stripe(`rk_${'live'}_${alnum(99)}`)).toBe(1);
    expect(stripe(`sk_${'test'}_${alnum(24)}`)).toBe(0);
    expect(stripe(`pk_${'live'}_${alnum(24)}`)).toBe(0);
    expect(stripe(`sk_${'live'}_${alnum(23)}`)).toBe(0);
  });
});

describe('AZURE_STORAGE_KEY', () => {
  const find = detector(SensitiveDataType.AZURE_STORAGE_KEY);
  const key = Buffer.from(alnum(64)).toString('base64');

  it.each([
    ['a connection string', `DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=${key};EndpointSuffix=core.windows.net`],
    ['an environment variable', `AZURE_STORAGE_KEY=${key}`],
    ['a quoted setting', `"AZURE_STORAGE_ACCOUNT_KEY": "${key}"`],
  ])('finds a key in %s', (_name, text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['a key of 32 bytes', `AccountKey=${Buffer.from(alnum(32)).toString('base64')};`],
    ['an 88-character string without its label', key],
    ['a key one character short', `AccountKey=${key.slice(1)}`],
  ])('refuses %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });
});

describe('DATABASE_CONNECTION_STRING', () => {
  const find = detector(SensitiveDataType.DATABASE_CONNECTION_STRING);

  it.each([
    'postgres://app:s3cr3t@db.example.com:5432/prod',
    'DATABASE_URL=postgresql://app:p%40ss:word@10.0.0.5/prod?sslmode=require',
    'mongodb+srv://reader:Xk2pq9@cluster0.example.net/app',
    'mysql://root:hunter2@localhost/shop',
    'redis://default:r3dis@cache.example.com:6379',
    'Server=tcp:sql.example.com,1433;Database=prod;User ID=app;Password=s3cr3t!;Encrypt=True;',
    'Data Source=db01;Initial Catalog=hr;Pwd=abc123',
    'Password=abc123;Host=db.example.com;Username=app',
  ])('finds %j', (text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['a URL without a password', 'postgres://app@db.example.com/prod'],
    ['a URL without credentials', 'mongodb://db.example.com:27017/app'],
    ['a templated password', 'postgres://app:${DB_PASSWORD}@db.example.com/prod'],
    ['a masked password', 'Server=db;Password=********;'],
    ['an empty password', 'Server=db;User=app;Password=;'],
    ['a password without a server', 'Password=s3cr3t'],
    ['a server on another line', 'Server=db01\nPassword=s3cr3t'],
    ['an http URL', 'https://user:pass@example.com/'],
  ])('refuses %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });

  it('counts each connection string once, even with two password keys', () => {
    expect(find('a: postgres://a:b1@h1/x\nb: Server=h2;Password=c2;\nc: Server=h3;Pwd=d3;Password=e4')).toBe(3);
  });
});
