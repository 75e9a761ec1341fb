import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsole, consoleIsStale } from '../scripts/build-console.js';
import { startStack, type Stack } from '../scripts/stack.js';
import { signToken } from '../platform/auth.js';
import { startSimulator } from '../connectors/simulated/server.js';
import type { Config } from '../platform/config.js';
import { PolicyKind, Severity } from '../subgraphs/activities/policy.entity.js';
import { launchBrowser, screenshot, seriousViolations, type Browser, type WatchedPage } from './browser.js';
import { Fixtures } from './fixtures.js';
import { freshDatabase, graphql, testConfig, waitFor } from './harness.js';

/**
 * The console in Debian's Chromium against a real stack with the simulated demo provider and the
 * scheduler: sign in, a demo instance connecting, a detection arriving live, a responder suspending
 * its account and the result arriving, a reload losing and repeating nothing, a viewer without action
 * buttons, GraphiQL running a query and a subscription offline; axe-core and the browser console on every page.
 */

let stack: Stack;
let config: Config;
let fixtures: Fixtures;
let browser: Browser;
let origin: string;
let dropDatabase: () => Promise<void>;
let dataDir: string;
let policyId: string;
let target: { id: string; email: string; instanceId: string } | undefined;
const pages: WatchedPage[] = [];

beforeAll(async () => {
  if (consoleIsStale()) buildConsole();
  const database = await freshDatabase();
  dropDatabase = database.drop;
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantwatch-console-'));
  config = testConfig(dataDir);
  stack = await startStack({ config, databaseUrl: database.url, port: 0, scheduler: true, demo: ['simulated'] });
  fixtures = new Fixtures(stack, config);
  origin = new URL(stack.gateway.url).origin;
  browser = await launchBrowser(origin);
  policyId = await fixtures.policy({
    name: 'Console test policy',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.HIGH,
    condition: { action: 'console.test' },
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  await dropDatabase?.();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

async function open(): Promise<WatchedPage> {
  const watched = await browser.page();
  pages.push(watched);
  return watched;
}

async function signIn({ page }: WatchedPage, role: string): Promise<void> {
  await page.getByLabel('Development sign-in as').selectOption(role);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('signed-in-as').waitFor();
}

async function checkPage(watched: WatchedPage, name?: string, exclude: string[] = []): Promise<void> {
  expect(await seriousViolations(watched.page, exclude)).toEqual([]);
  if (name) await screenshot(watched.page, name, { fullPage: true });
}

/** A demo account (active, not an admin) once the demo's first scan has found one: the detections' subject. */
async function demoAccount(): Promise<{ id: string; email: string; instanceId: string }> {
  if (target) return target;
  const session = { token: await signToken(config, { role: 'admin' }) };
  const account = await waitFor(
    'a demo account scanned',
    async () => {
      const answer = await graphql<{ accounts: { edges: { node: { id: string; email: string; instance: { id: string } } }[] } }>(
        stack.gateway.url,
        session.token,
        '{ accounts(filter: { status: ACTIVE, isAdmin: false }, first: 1) { edges { node { id email instance { id } } } } }',
      );
      return answer.data?.accounts.edges[0]?.node;
    },
    90_000,
  );
  target = { id: account.id, email: account.email, instanceId: account.instance.id };
  return target;
}

let raised = 0;
async function raiseDetection(): Promise<string> {
  await demoAccount();
  raised += 1;
  const title = `Console test detection ${raised}`;
  await fixtures.detection({
    policyId,
    severity: Severity.HIGH,
    title,
    description: 'Raised by the console test',
    instanceId: target!.instanceId,
    accountId: target!.id,
    evidence: { reason: 'console test', n: raised },
  });
  return title;
}

/** Waits until the gateway holds at least `count` client subscriptions (the page's feed is open). */
async function subscribers(count: number): Promise<void> {
  await waitFor(`${count} subscribers`, async () => (stack.gateway.subscriptions.stats().subscribers >= count ? true : undefined), 20_000);
}

describe('the console in a browser', () => {
  it('shows a demo instance reaching CONNECTED with its scan progress', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${origin}/`);
    await signIn(watched, 'responder');
    // Opened while the demo instances connect: the statuses the page shows on the way are recorded.
    const instance = page.getByTestId('instance').first();
    await instance.waitFor();
    const seen: string[] = [];
    await expect
      .poll(
        async () => {
          const status = await instance.getAttribute('data-status');
          if (status && seen.at(-1) !== status) seen.push(status);
          return status;
        },
        { timeout: 90_000, interval: 100 },
      )
      .toBe('CONNECTED');
    expect(seen.at(-1)).toBe('CONNECTED');
    await expect
      .poll(async () => Number(await instance.getByTestId('progress-USERS').getAttribute('value')), { timeout: 30_000 })
      .toBeGreaterThan(0);
    // A responder is not an admin: no connect or disconnect.
    expect(await page.getByRole('button', { name: 'Disconnect' }).count()).toBe(0);
    await checkPage(watched, 'console-instances.png');
  });

  it('serves GraphiQL offline to a browser at /graphql: a query and a subscription run', async () => {
    const watched = await open();
    const { page } = watched;
    const response = await page.goto(`${origin}/graphql`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    await signIn(watched, 'analyst');
    await page
      .locator('.graphiql-query-editor')
      .getByText('appInstances')
      .waitFor({ timeout: 10_000 })
      .catch(async (error: unknown) => {
        await page.screenshot({ path: path.join(os.tmpdir(), 'graphiql-failed.png') });
        throw error;
      });
    await page.locator('.graphiql-execute-button').click();
    await expect.poll(() => page.locator('.result-window').innerText(), { timeout: 20_000 }).toContain('appInstances');
    // GraphiQL's own tab bar nests its close buttons in its tabs (upstream markup, nested-interactive).
    await checkPage(watched, 'graphiql.png', ['.graphiql-tabs']);
    // The README's subscription tab, replaying from the first event.
    await page.locator('.graphiql-tab', { hasText: 'LiveDetections' }).click();
    await page.locator('.graphiql-query-editor').getByText('detectionRaised').waitFor();
    const before = stack.gateway.subscriptions.stats().subscribers;
    await page.locator('.graphiql-execute-button').click();
    await subscribers(before + 1).catch(async (error: unknown) => {
      await page.screenshot({ path: path.join(os.tmpdir(), 'graphiql-subscription-failed.png') });
      throw error;
    });
    await raiseDetection();
    // GraphiQL shows the latest event (the demo raises detections of its own too): one arrived live.
    await expect
      .poll(() => page.locator('.result-window').innerText(), { timeout: 20_000 })
      .toMatch(/"detectionRaised"[\s\S]*"cursor": "\d+"/);
    await screenshot(page, 'graphiql-subscription.png');
    await page.locator('.graphiql-execute-button').click(); // stops the subscription
    await waitFor(
      'the subscription to stop',
      async () => (stack.gateway.subscriptions.stats().subscribers === before ? true : undefined),
      20_000,
    );
  });

  it('shows a detection arriving live; a responder suspends its account and sees the result; a reload loses and repeats nothing', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${origin}/detections`);
    const before = stack.gateway.subscriptions.stats().subscribers;
    await signIn(watched, 'responder');
    await page.getByTestId('feed').waitFor({ state: 'attached' });
    await subscribers(before + 1);
    const first = await raiseDetection();
    const event = page.getByTestId('feed-event').filter({ hasText: first });
    await event.waitFor();
    await checkPage(watched, 'console-detections.png');

    await event.getByRole('button', { name: first }).click();
    const detail = page.getByTestId('detection-detail');
    await detail.getByText('console test').first().waitFor();
    await detail.getByTestId('linked-account').getByRole('button', { name: 'Suspend', exact: true }).click();
    await detail.getByLabel('Reason').fill('Console test: compromised account');
    await checkPage(watched, 'console-governance-confirm.png');
    await detail.getByRole('button', { name: 'Confirm suspend' }).click();
    await detail.getByRole('status').filter({ hasText: 'SUSPEND_ACCOUNT requested' }).waitFor();

    await page.getByRole('link', { name: 'Governance' }).click();
    const row = page.getByTestId('governance-row').filter({ hasText: target!.email }).first();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('SUCCEEDED');
    await checkPage(watched, 'console-governance.png');

    // Away from the page while two more detections are raised, then back: every event once, in order.
    await page.getByRole('link', { name: 'Detections' }).click();
    await page.getByTestId('feed-event').filter({ hasText: first }).waitFor();
    const second = await raiseDetection();
    await page.getByTestId('feed-event').filter({ hasText: second }).waitFor();
    await page.goto('about:blank');
    const third = await raiseDetection();
    const fourth = await raiseDetection();
    await page.goto(`${origin}/detections`);
    await page.getByTestId('feed-event').filter({ hasText: fourth }).waitFor();
    await page.reload();
    await page.getByTestId('feed-event').filter({ hasText: fourth }).waitFor();
    const fifth = await raiseDetection();
    await page.getByTestId('feed-event').filter({ hasText: fifth }).waitFor();
    const cursors = await page.getByTestId('feed-event').evaluateAll((items) => items.map((i) => i.getAttribute('data-cursor')!));
    expect(new Set(cursors).size).toBe(cursors.length);
    const numbers = cursors.map((c) => BigInt(c));
    expect(numbers).toEqual([...numbers].sort((a, b) => (a > b ? -1 : a < b ? 1 : 0)));
    const titles = await page.getByTestId('feed-event').getByRole('button').allInnerTexts();
    for (const title of [first, second, third, fourth, fifth]) expect(titles.filter((t) => t === title)).toHaveLength(1);
  });

  it('shows a viewer no action buttons', async () => {
    const watched = await open();
    const { page } = watched;
    await page.goto(`${origin}/`);
    await signIn(watched, 'viewer');
    await page.getByTestId('instance').first().waitFor();
    expect(await page.locator('button.action').count()).toBe(0);
    await page.getByRole('link', { name: 'Detections' }).click();
    await page.getByRole('button', { name: 'Console test detection 1' }).first().click();
    await page.getByTestId('linked-account').waitFor();
    expect(await page.locator('button.action').count()).toBe(0);
    await page.getByRole('link', { name: 'Explore' }).click();
    await page.getByRole('cell', { name: target!.email }).waitFor();
    expect(await page.locator('button.action').count()).toBe(0);
    await checkPage(watched, 'console-explore-viewer.png');
  });

  // After the others: the new instance's scan raises detections of its own.
  it("connects an app from an admin's form, each config field sent as its connector's type (a number as a number)", async () => {
    const simulator = await startSimulator({
      tenants: [
        {
          id: 'form',
          token: 'form-token-0123456789',
          seed: 3,
          users: 5,
          groups: 1,
          files: 3,
          grants: 2,
          backfillDays: 1,
          activityPerMinute: 0,
        },
      ],
    });
    try {
      const watched = await open();
      const { page } = watched;
      await page.goto(`${origin}/`);
      await signIn(watched, 'admin');
      await page.getByRole('button', { name: 'Connect an app' }).click();
      const form = page.getByRole('form', { name: 'Connect an app' });
      await form.getByLabel('Connector').selectOption({ label: 'Simulated SaaS provider' });
      await form.getByLabel('Name', { exact: true }).fill('Connected from the form');
      await form.getByLabel('Endpoint').fill(simulator.url);
      await form.getByLabel('API token').fill('form-token-0123456789');
      // A number field is a number input, and connectApp gets a number (a string is refused).
      expect(await form.getByLabel('Requests per minute').getAttribute('type')).toBe('number');
      await form.getByLabel('Requests per minute').fill('1200');
      await form.getByLabel('Largest page').fill('50');
      await checkPage(watched);
      await form.getByRole('button', { name: 'Connect' }).click();
      await page.getByText('Connected from the form').waitFor({ timeout: 20_000 });
      expect(await page.getByRole('alert').count()).toBe(0);
      const admin = await signToken(config, { role: 'admin' });
      const instance = await waitFor(
        "the form's instance CONNECTED",
        async () => {
          const answer = await graphql<{ appInstances: { name: string; status: string; apiUsage: { limitPerMinute: number | null } }[] }>(
            stack.gateway.url,
            admin,
            '{ appInstances { name status apiUsage { limitPerMinute } } }',
          );
          const found = answer.data?.appInstances.find((i) => i.name === 'Connected from the form');
          return found?.status === 'CONNECTED' ? found : undefined;
        },
        60_000,
      );
      expect(instance.apiUsage.limitPerMinute).toBe(1200);
    } finally {
      await simulator.stop();
    }
  });

  it('logged no browser console error and loaded nothing from elsewhere', () => {
    expect(pages.flatMap((p) => p.errors)).toEqual([]);
    expect(pages.flatMap((p) => p.foreign)).toEqual([]);
  });
});
