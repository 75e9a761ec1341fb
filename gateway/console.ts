import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { isRole, ROLES, signToken } from '../platform/auth.js';
import type { Config } from '../platform/config.js';

/**
 * The Content-Security-Policy of every console page: scripts, styles, fonts and images only from the
 * gateway itself (no inline script, nothing from elsewhere), requests and websockets only to it, no
 * framing, no plugins, forms only to itself.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "manifest-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

/** Where `npm run build:console` writes the console (console/dist), from the source tree or from dist/. */
export function consoleDist(): string | undefined {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../console/dist'), path.resolve(here, '../../console/dist')];
  return candidates.find((dir) => fs.existsSync(path.join(dir, 'index.html')));
}

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', CONSOLE_CSP);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
}

/** Whether a GET is a browser navigation asking for a page (HTML first), not an API call. */
function wantsHtml(req: Request): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  // A GET with a query is a GraphQL request over GET: the API answers it.
  if (typeof req.query.query === 'string') return false;
  const accept = req.headers.accept ?? '';
  return (
    req.accepts(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html' && accept.includes('text/html')
  );
}

/**
 * The browser console, before the API on the same app: the SOC web app at `/`, GraphiQL at `/graphql`
 * for a browser's navigation (Accept: text/html; POSTs and JSON GETs stay the API), the bundled files
 * under `/console/assets/`, the console's settings at `/console/settings` and, outside production,
 * a development sign-in at `POST /console/session` that signs a token for a role. Nothing when
 * CONSOLE is off (the default in production).
 */
export function mountConsole(app: Express, config: Config): void {
  if (!config.CONSOLE) return;
  const dist = consoleDist();
  // Outside production, and only where the gateway can sign tokens itself (not with AUTH_JWKS_URL).
  const development = config.NODE_ENV !== 'production' && !config.AUTH_JWKS_URL;
  const page = (name: 'index.html' | 'graphiql.html') => (req: Request, res: Response) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-cache');
    if (!dist) {
      res.status(503).type('text/plain').send('The console is not built: run `npm run build:console` (npm ci builds it), then restart.\n');
      return;
    }
    res.type('html').sendFile(path.join(dist, name));
  };
  app.get('/', page('index.html'));
  app.get(['/instances', '/detections', '/governance', '/explore'], page('index.html'));
  app.get('/graphql', (req: Request, res: Response, next: NextFunction) => {
    if (!wantsHtml(req)) return next();
    page('graphiql.html')(req, res);
  });
  if (dist) {
    app.use(
      '/console/assets',
      (_req, res, next) => {
        securityHeaders(res);
        next();
      },
      express.static(path.join(dist, 'console/assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }),
    );
  }
  app.get('/console/settings', (_req, res) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ developmentSignIn: development, roles: ROLES });
  });
  app.post('/console/session', async (req, res) => {
    securityHeaders(res);
    res.setHeader('Cache-Control', 'no-store');
    // A JSON body only: a page elsewhere cannot send one without a CORS preflight, which this path never grants.
    if (!development || !req.is('application/json')) {
      res.status(404).json({ errors: [{ message: 'Not found', extensions: { code: 'NOT_FOUND' } }] });
      return;
    }
    const role: unknown = (req.body as { role?: unknown } | undefined)?.role;
    if (!isRole(role)) {
      res.status(400).json({
        errors: [{ message: `role must be one of ${ROLES.join(', ')}`, extensions: { code: 'BAD_USER_INPUT' } }],
      });
      return;
    }
    const token = await signToken(config, { role, subject: `console-${role}`, expiresIn: '12h' });
    res.json({ token, role });
  });
}
