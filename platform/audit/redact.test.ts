import { describe, expect, it } from 'vitest';
import { REDACTED, redact, secretKeyMatcher } from './redact.js';

const isSecret = secretKeyMatcher(['serviceAccountKey']);

describe('redact', () => {
  it('replaces the values of secret-named keys at any depth, and keeps the rest', () => {
    const input = {
      name: 'Contoso',
      idempotencyKey: 'retry-1',
      config: {
        endpoint: 'https://api.example.com',
        token: 't0ken',
        client_secret: 's3cret',
        adminPassword: 'pw',
        privateKeyPem: 'pem',
        key: 'k',
        apiKey: 'ak',
        nested: [{ refreshToken: 'rt', label: 'x' }],
      },
    };
    expect(redact(input, isSecret)).toEqual({
      name: 'Contoso',
      idempotencyKey: 'retry-1',
      config: {
        endpoint: 'https://api.example.com',
        token: REDACTED,
        client_secret: REDACTED,
        adminPassword: REDACTED,
        privateKeyPem: REDACTED,
        key: REDACTED,
        apiKey: REDACTED,
        nested: [{ refreshToken: REDACTED, label: 'x' }],
      },
    });
  });

  it("redacts a connector's declared secret field whatever its name", () => {
    expect(redact({ serviceAccountKey: { private_key: 'x', client_email: 'a@b.c' } }, isSecret)).toEqual({ serviceAccountKey: REDACTED });
    expect(redact({ serviceAccountKey: 'x' }, secretKeyMatcher())).toEqual({ serviceAccountKey: 'x' });
  });

  it('redacts PEM blocks and JWTs under any key', () => {
    const pem = '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----';
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';
    expect(redact({ comment: pem, reason: jwt, list: [pem] }, isSecret)).toEqual({ comment: REDACTED, reason: REDACTED, list: [REDACTED] });
  });

  it('strips URLs of what may carry a credential; a webhook url keeps only its origin', () => {
    expect(redact({ endpoint: 'https://user:pw@api.example.com/v1?sig=abc#frag' }, isSecret)).toEqual({
      endpoint: `https://api.example.com/v1?${REDACTED}`,
    });
    expect(redact({ endpoint: 'https://api.example.com/v1' }, isSecret)).toEqual({ endpoint: 'https://api.example.com/v1' });
    expect(redact({ url: 'https://hooks.example.com/services/T0/B0/XYZ' }, isSecret)).toEqual({
      url: `https://hooks.example.com/${REDACTED}`,
    });
  });

  it('bounds what it keeps: long strings cut, deep nesting dropped; never throws', () => {
    const long = redact({ text: 'a'.repeat(5_000) }, isSecret) as { text: string };
    expect(long.text.length).toBeLessThanOrEqual(2_001);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 20; i += 1) deep = { deep };
    expect(JSON.stringify(redact(deep, isSecret))).toContain('[TOO DEEP]');
    expect(redact({ n: 1n, d: new Date(0), nil: null, u: undefined }, isSecret)).toEqual({
      n: '1',
      d: '1970-01-01T00:00:00.000Z',
      nil: null,
      u: null,
    });
  });
});
