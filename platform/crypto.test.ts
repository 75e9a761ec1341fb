import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { credentialsKey, decryptSecret, encryptSecret } from './crypto.js';

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-crypto-'));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

/** Flips one bit of the decoded part `index` (1 = iv, 2 = tag, 3 = ciphertext) of a sealed value. */
function tamper(sealed: string, index: 1 | 2 | 3): string {
  const parts = sealed.split('.');
  const bytes = Buffer.from(parts[index]!, 'base64url');
  bytes[0]! ^= 0x01;
  parts[index] = bytes.toString('base64url');
  return parts.join('.');
}

describe('encryptSecret / decryptSecret', () => {
  const key = randomBytes(32);

  it.each(['client-secret-123', '', 'ünïcödé 🔑 and "quotes"', 'x'.repeat(10_000)])('round-trips %#', (plaintext) => {
    const sealed = encryptSecret(key, plaintext);
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]*$/);
    expect(decryptSecret(key, sealed)).toBe(plaintext);
  });

  it('uses a fresh IV each time', () => {
    const a = encryptSecret(key, 'same text');
    const b = encryptSecret(key, 'same text');
    expect(a).not.toBe(b);
    expect(a).not.toContain('same text');
    expect(a.split('.')[1]).not.toBe(b.split('.')[1]);
    expect(Buffer.from(a.split('.')[1]!, 'base64url')).toHaveLength(12);
  });

  it.each([
    ['ciphertext', 3],
    ['auth tag', 2],
    ['IV', 1],
  ] as const)('throws when the %s was altered', (_part, index) => {
    const sealed = encryptSecret(key, 'client-secret-123');
    expect(() => decryptSecret(key, tamper(sealed, index))).toThrow();
  });

  it('throws with the wrong key', () => {
    const sealed = encryptSecret(key, 'client-secret-123');
    expect(() => decryptSecret(randomBytes(32), sealed)).toThrow();
  });

  it.each(['', 'plaintext', 'v2.a.b.c', 'v1.onlyiv'])('refuses the unrecognised format %j', (sealed) => {
    expect(() => decryptSecret(key, sealed)).toThrow('Unrecognised encrypted credential format');
  });
});

describe('credentialsKey', () => {
  it('uses CREDENTIALS_KEY when set, writing nothing', () => {
    const dir = tempDir();
    const hex = '0123456789abcdef'.repeat(4);
    const key = credentialsKey(loadConfig({ CREDENTIALS_KEY: hex, DATA_DIR: dir }));
    expect(key.toString('hex')).toBe(hex);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('generates a development key once into DATA_DIR and reuses it', () => {
    const dir = path.join(tempDir(), 'not-yet-created');
    const config = loadConfig({ DATA_DIR: dir });
    const first = credentialsKey(config);
    expect(first).toHaveLength(32);

    const file = path.join(dir, 'credentials-key');
    expect(fs.readFileSync(file, 'utf8')).toBe(first.toString('hex'));
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);

    const again = credentialsKey(loadConfig({ DATA_DIR: dir }));
    expect(again.equals(first)).toBe(true);
    expect(decryptSecret(again, encryptSecret(first, 'survives a restart'))).toBe('survives a restart');
  });

  it('generates a different key for a different DATA_DIR', () => {
    const a = credentialsKey(loadConfig({ DATA_DIR: tempDir() }));
    const b = credentialsKey(loadConfig({ DATA_DIR: tempDir() }));
    expect(a.equals(b)).toBe(false);
  });

  it('refuses to generate a key in production', () => {
    const dir = tempDir();
    expect(() => credentialsKey(loadConfig({ NODE_ENV: 'production', DATA_DIR: dir }))).toThrow(
      'CREDENTIALS_KEY must be set in production',
    );
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});
