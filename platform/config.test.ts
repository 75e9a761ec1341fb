import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_NAMES, loadConfig } from './config.js';

/** The ConfigError `env` produces. */
function refusal(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

const SECRET = 'a-test-secret-that-is-at-least-32-characters';
const KEY = 'ab'.repeat(32);

describe('loadConfig', () => {
  it('runs on a laptop with no variables set', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      NODE_ENV: 'development',
      DATA_DIR: '.data',
      PORT: 4000,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      AUTH_JWT_ISSUER: 'tenantwatch',
      AUTH_JWT_AUDIENCE: 'tenantwatch-api',
      DB_POOL_MAX: 10,
      DEMO: ['simulated'],
      QUERY_MAX_DEPTH: 12,
      EVENT_LOG_RETENTION_DAYS: 7,
      SUBSCRIPTION_QUEUE_LIMIT: 1000,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.AUTH_JWT_SECRET).toBeUndefined();
    expect(config.AUTH_JWKS_URL).toBeUndefined();
    expect(config.CREDENTIALS_KEY).toBeUndefined();
    expect(config.dataDir).toBe(path.resolve('.data'));
  });

  it('treats empty strings as unset', () => {
    const config = loadConfig({ PORT: '', DATABASE_URL: '', DEMO: '' });
    expect(config).toMatchObject({ PORT: 4000, DEMO: ['simulated'] });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('reads valid values, coercing numbers and resolving DATA_DIR', () => {
    const config = loadConfig({
      PORT: '0',
      DATA_DIR: '/var/lib/tenantwatch',
      DATABASE_URL: 'postgresql://tw:tw@localhost:5432/tenantwatch',
      CREDENTIALS_KEY: KEY.toUpperCase(),
      AUTH_JWT_SECRET: SECRET,
      QUERY_MAX_DEPTH: '20',
    });
    expect(config).toMatchObject({ PORT: 0, DATABASE_URL: 'postgresql://tw:tw@localhost:5432/tenantwatch', QUERY_MAX_DEPTH: 20 });
    expect(config.dataDir).toBe('/var/lib/tenantwatch');
    expect(loadConfig({ PORT: '65535' }).PORT).toBe(65535);
  });

  it.each([
    ['PORT', 'eighty'],
    ['PORT', '65536'],
    ['PORT', '-1'],
    ['PORT', '80.5'],
    ['DATABASE_URL', 'mysql://localhost/tenantwatch'],
    ['DATABASE_URL', 'localhost:5432'],
    ['CREDENTIALS_KEY', 'ab'.repeat(31)],
    ['CREDENTIALS_KEY', 'zz'.repeat(32)],
    ['AUTH_JWKS_URL', 'not a url'],
    ['AUTH_JWT_SECRET', 'too-short'],
    ['NODE_ENV', 'staging'],
    ['QUERY_MAX_DEPTH', '1'],
  ])('refuses %s=%s with a ConfigError naming the variable', (variable, value) => {
    const error = refusal({ [variable]: value });
    expect(error.name).toBe('ConfigError');
    expect(error.message).toMatch(new RegExp(`^\\s+${variable}: `, 'm'));
  });

  it('says what each variable accepts', () => {
    expect(refusal({ DATABASE_URL: 'mysql://x' }).message).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expect(refusal({ CREDENTIALS_KEY: 'abc' }).message).toContain('CREDENTIALS_KEY: must be 64 hex characters (a 256-bit AES key)');
    expect(refusal({ AUTH_JWT_SECRET: 'short' }).message).toContain('AUTH_JWT_SECRET: must be at least 32 characters');
  });

  it('lists every bad variable in one error', () => {
    const { message } = refusal({ PORT: 'x', DATABASE_URL: 'mysql://x', CREDENTIALS_KEY: 'y' });
    for (const variable of ['PORT', 'DATABASE_URL', 'CREDENTIALS_KEY']) expect(message).toContain(`${variable}:`);
  });

  it('refuses an HS256 secret and a JWKS URL together', () => {
    const { message } = refusal({ AUTH_JWT_SECRET: SECRET, AUTH_JWKS_URL: 'https://issuer.example/.well-known/jwks.json' });
    expect(message).toContain('AUTH_JWKS_URL: set AUTH_JWT_SECRET or AUTH_JWKS_URL, not both');
  });

  it('reads PUBLIC_WEBHOOK_URL without its trailing slash, and refuses one with a query or another scheme', () => {
    expect(loadConfig({}).PUBLIC_WEBHOOK_URL).toBeUndefined();
    expect(loadConfig({ PUBLIC_WEBHOOK_URL: 'https://tenantwatch.example.com/hooks/' }).PUBLIC_WEBHOOK_URL).toBe(
      'https://tenantwatch.example.com/hooks',
    );
    expect(refusal({ PUBLIC_WEBHOOK_URL: 'https://tenantwatch.example.com/?x=1' }).message).toContain(
      'PUBLIC_WEBHOOK_URL: must be an http(s) URL without a query or fragment',
    );
    expect(refusal({ PUBLIC_WEBHOOK_URL: 'ftp://tenantwatch.example.com' }).message).toContain('PUBLIC_WEBHOOK_URL:');
  });

  it('accepts a JWKS URL on its own', () => {
    expect(loadConfig({ AUTH_JWKS_URL: 'http://127.0.0.1:9999/jwks' }).AUTH_JWKS_URL).toBe('http://127.0.0.1:9999/jwks');
  });

  it('reads CORS_ORIGINS as exact origins, refusing paths, wildcards and other schemes', () => {
    expect(loadConfig({}).CORS_ORIGINS).toBeUndefined();
    expect(loadConfig({ CORS_ORIGINS: 'https://soc.example.com, http://localhost:5173' }).CORS_ORIGINS).toEqual([
      'https://soc.example.com',
      'http://localhost:5173',
    ]);
    for (const bad of ['*', 'https://soc.example.com/', 'https://soc.example.com/app', 'ftp://files.example.com', 'soc.example.com'])
      expect(refusal({ CORS_ORIGINS: bad }).message).toMatch(/CORS_ORIGINS: .* is not an origin/);
  });

  describe('the DEMO flag', () => {
    it.each(['on', 'true', '1', 'yes', 'simulated'])('reads %s as the simulated demo', (value) => {
      expect(loadConfig({ DEMO: value }).DEMO).toEqual(['simulated']);
    });

    it('reads m365 as the Microsoft 365 demo, a list separated by commas as those demos, and all as every one', () => {
      expect(loadConfig({ DEMO: 'm365' }).DEMO).toEqual(['m365']);
      expect(loadConfig({ DEMO: ' M365 , on' }).DEMO).toEqual(['simulated', 'm365']);
      expect(loadConfig({ DEMO: 'all' }).DEMO).toEqual([...DEMO_NAMES]);
      expect(refusal({ DEMO: 'm365,dropbox' }).message).toMatch(/DEMO: .*not "dropbox"/);
    });

    it('reads google and salesforce as the demos of their emulators, included by all', () => {
      expect(loadConfig({ DEMO: 'google' }).DEMO).toEqual(['google']);
      expect(loadConfig({ DEMO: 'Salesforce, google' }).DEMO).toEqual(['google', 'salesforce']);
      expect(loadConfig({ DEMO: 'all' }).DEMO).toEqual(['simulated', 'm365', 'google', 'salesforce']);
      expect(refusal({ DEMO: 'dropbox' }).message).toMatch(/one or more of simulated, m365, google, salesforce separated by commas/);
    });

    it.each(['off', 'false', '0', 'no'])('reads %s as false', (value) => {
      expect(loadConfig({ DEMO: value }).DEMO).toBe(false);
    });

    it('refuses anything else, naming DEMO', () => {
      expect(refusal({ DEMO: 'maybe' }).message).toMatch(/^\s+DEMO: /m);
    });
  });

  describe('production defaults', () => {
    it('runs no demo and refuses private connector endpoints in production unless asked', () => {
      expect(loadConfig({ NODE_ENV: 'production' })).toMatchObject({ DEMO: false, CONNECTOR_ALLOW_PRIVATE: false });
      expect(loadConfig({ NODE_ENV: 'production', DEMO: 'on', CONNECTOR_ALLOW_PRIVATE: 'true' })).toMatchObject({
        DEMO: ['simulated'],
        CONNECTOR_ALLOW_PRIVATE: true,
      });
    });

    it('runs the demo and allows private endpoints elsewhere unless turned off', () => {
      expect(loadConfig({ NODE_ENV: 'development' })).toMatchObject({ DEMO: ['simulated'], CONNECTOR_ALLOW_PRIVATE: true });
      expect(loadConfig({ NODE_ENV: 'test', DEMO: 'off', CONNECTOR_ALLOW_PRIVATE: 'no' })).toMatchObject({
        DEMO: false,
        CONNECTOR_ALLOW_PRIVATE: false,
      });
    });

    it('serves the browser console outside production, and in production only with CONSOLE=on', () => {
      expect(loadConfig({ NODE_ENV: 'development' }).CONSOLE).toBe(true);
      expect(loadConfig({ NODE_ENV: 'development', CONSOLE: 'off' }).CONSOLE).toBe(false);
      expect(loadConfig({ NODE_ENV: 'production' }).CONSOLE).toBe(false);
      expect(loadConfig({ NODE_ENV: 'production', CONSOLE: 'on' }).CONSOLE).toBe(true);
      expect(() => loadConfig({ CONSOLE: 'yes please' })).toThrow(/^\s+CONSOLE: must be on or off/m);
    });
  });
});
