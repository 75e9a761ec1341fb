import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleDist, mountConsole } from '../gateway/console.js';
import { loadConfig } from '../platform/config.js';
import { createApp } from '../platform/http.js';
import { TEST_JWT_SECRET } from './harness.js';

/** The console's routes on a bare app (no stack): content negotiation, the CSP, CONSOLE and the development sign-in. */

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function serve(env: Record<string, string>): Promise<string> {
  const app = createApp();
  mountConsole(app, loadConfig({ AUTH_JWT_SECRET: TEST_JWT_SECRET, LOG_LEVEL: 'silent', ...env }));
  // What the gateway mounts after the console: the API.
  app.use('/graphql', (_req, res) => {
    res.json({ api: true });
  });
  app.use((_req, res) => {
    res.status(404).json({ notFound: true });
  });
  const server = http.createServer(app);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

describe('the console routes', () => {
  it('is built (npm ci builds it through `prepare`)', () => {
    expect(consoleDist()).toBeDefined();
  });

  it('answers a browser at /graphql with GraphiQL under a strict CSP, and API clients with the API', async () => {
    const base = await serve({ NODE_ENV: 'development' });
    const page = await fetch(`${base}/graphql`, { headers: { accept: BROWSER } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    const html = await page.text();
    expect(html).toContain('GraphiQL');
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(html).not.toMatch(/https?:\/\//); // nothing from elsewhere
    for (const accept of ['application/json', '*/*', 'application/graphql-response+json']) {
      expect(await (await fetch(`${base}/graphql`, { headers: { accept } })).json()).toEqual({ api: true });
    }
    expect(await (await fetch(`${base}/graphql?query=%7B__typename%7D`, { headers: { accept: BROWSER } })).json()).toEqual({ api: true });
    expect(await (await fetch(`${base}/graphql`, { method: 'POST', headers: { accept: BROWSER } })).json()).toEqual({ api: true });
    const app = await fetch(`${base}/`, { headers: { accept: BROWSER } });
    expect(app.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(await app.text()).toContain('Tenantwatch console');
  });

  it('signs development tokens for a role outside production, for JSON requests only', async () => {
    const base = await serve({ NODE_ENV: 'development' });
    const ok = await fetch(`${base}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'viewer' }),
    });
    expect(ok.status).toBe(200);
    expect(((await ok.json()) as { token: string }).token).toMatch(/^eyJ/);
    const form = await fetch(`${base}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{"role":"admin"}',
    });
    expect(form.status).toBe(404);
    const bad = await fetch(`${base}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'root' }),
    });
    expect(bad.status).toBe(400);
  });

  it('is off in production unless CONSOLE=on, and never signs development tokens there', async () => {
    const off = await serve({ NODE_ENV: 'production' });
    expect((await fetch(`${off}/`, { headers: { accept: BROWSER } })).status).toBe(404);
    expect(await (await fetch(`${off}/graphql`, { headers: { accept: BROWSER } })).json()).toEqual({ api: true });
    const on = await serve({ NODE_ENV: 'production', CONSOLE: 'on' });
    expect((await fetch(`${on}/`, { headers: { accept: BROWSER } })).status).toBe(200);
    expect(await (await fetch(`${on}/console/settings`)).json()).toMatchObject({ developmentSignIn: false });
    const session = await fetch(`${on}/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ role: 'admin' }),
    });
    expect(session.status).toBe(404);
  });
});
