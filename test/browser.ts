import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`; .ci/run installs it when missing). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, offline-friendly headless Chromium in a container. */
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Browser {
  readonly context: BrowserContext;
  /** A new tab (its own sessionStorage, so its own sign-in) that records console errors, page errors and requests elsewhere. */
  page(): Promise<WatchedPage>;
  close(): Promise<void>;
}

export interface WatchedPage {
  readonly page: Page;
  /** Console errors and uncaught exceptions (CSP violations are console errors). */
  readonly errors: string[];
  /** Requests to any origin other than the gateway's. */
  readonly foreign: string[];
}

/** Starts Chromium on a fresh profile (--user-data-dir in a new temp folder, removed on close). */
export async function launchBrowser(origin: string): Promise<Browser> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: FLAGS,
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
  });
  context.setDefaultTimeout(30_000);
  return {
    context,
    async page() {
      const page = await context.newPage();
      const errors: string[] = [];
      const foreign: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text());
      });
      page.on('pageerror', (error) => errors.push(`${error.name}: ${error.message}`));
      page.on('response', async (response) => {
        if (response.status() < 500) return;
        const request = response.request();
        errors.push(
          `HTTP ${response.status()} for ${request.method()} ${request.url()} ${request.postData() ?? ''}: ${await response.text().catch(() => '')}`,
        );
      });
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(origin) && !url.startsWith(origin.replace(/^http/, 'ws')) && !url.startsWith('data:')) foreign.push(url);
      });
      return { page, errors, foreign };
    },
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Runs axe-core on the page (evaluated over the DevTools protocol, which the page's CSP does not apply to); answers its serious and critical violations. */
export async function seriousViolations(
  page: Page,
  exclude: string[] = [],
): Promise<{ id: string; impact: string; help: string; targets: string[] }[]> {
  await page.evaluate(`${axeSource}\n;undefined`);
  const result = await page.evaluate(async (excluded) => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } })
      .axe;
    interface AxeViolation {
      id: string;
      impact: string | null;
      help: string;
      nodes: { target: string[] }[];
    }
    const run = await axe.run(
      excluded.length ? { exclude: excluded.map((s) => [s]) } : (globalThis as unknown as { document: unknown }).document,
      { resultTypes: ['violations'] },
    );
    return run.violations.map((v) => ({ id: v.id, impact: v.impact ?? '', help: v.help, targets: v.nodes.map((n) => n.target.join(' ')) }));
  }, exclude);
  return result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** Where the tests write their screenshots (committed; the README shows them), with SCREENSHOTS=1 only: a run leaves the tree clean. */
const SCREENSHOTS = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../docs');

/** Saves the page as docs/`name` when SCREENSHOTS=1 (`SCREENSHOTS=1 npx vitest run test/console.e2e.test.ts`). */
export async function screenshot(page: Page, name: string, options: { fullPage?: boolean } = {}): Promise<void> {
  if (process.env.SCREENSHOTS === '1') await page.screenshot({ path: path.join(SCREENSHOTS, name), ...options });
}
