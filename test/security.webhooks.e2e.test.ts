import { randomUUID } from 'node:crypto';
import http from 'node:http';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signWebhook } from '../connectors/simulated/webhooks.js';
import { credentialsKey } from '../platform/crypto.js';
import { startScheduler, FILE_CHANGED_JOB, type Scheduler } from '../scheduler/scheduler.js';
import { AppInstanceService } from '../subgraphs/accounts/public.js';
import { startTestStack, type TestStack } from './harness.js';

/**
 * The webhook receiver under attack, over the real stack: replays, oversized bodies and notice
 * floods, rate limits, and unreadable requests, each answered with JSON and enqueuing nothing. A
 * second scheduler process on the same database shares the delivery ids and the rate.
 *
 * Every test takes instances of its own (connected straight through the accounts service, with an
 * unreachable endpoint: only their webhooks are used), so that one test's deliveries never count
 * against another's rate.
 */

const SECRET = 'webhook-security-secret';
const RATE_PER_MINUTE = 10;
const MAX_BYTES = 1_048_576; // the default
const MAX_NOTICES = 1_000; // the default

let t: TestStack;
let second: Scheduler;
let db: pg.Client;

beforeAll(async () => {
  t = await startTestStack({ WEBHOOK_RATE_PER_MINUTE: String(RATE_PER_MINUTE) }, { scheduler: true });
  second = await startScheduler({ config: t.config, databaseUrl: t.stack.databaseUrl, name: 'second-scheduler' });
  db = new pg.Client({ connectionString: t.stack.databaseUrl });
  await db.connect();
}, 240_000);

afterAll(async () => {
  await db?.end();
  await second?.stop();
  await t?.stop();
});

const primary = () => t.stack.scheduler!;

/** A simulated instance whose webhooks are signed with {@link SECRET}. */
async function instance(): Promise<string> {
  const service = new AppInstanceService(t.stack.subgraphs.accounts!.db.fork(), credentialsKey(t.config));
  const created = await service.connect({
    provider: 'simulated',
    name: `webhooks-${randomUUID().slice(0, 8)}`,
    config: { endpoint: 'http://127.0.0.1:9', token: 'unused-token', webhookSecret: SECRET },
  });
  return created.id;
}

type Notice = { kind: string; externalId: string };

interface Delivery {
  readonly deliveryId: string;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/** A delivery as the simulated provider sends it, signed now (or as told). */
function delivery(notices: readonly Notice[], options: { deliveryId?: string; secret?: string; padding?: number } = {}): Delivery {
  const deliveryId = options.deliveryId ?? randomUUID();
  const body = JSON.stringify({
    tenantId: 'acme',
    deliveryId,
    notices,
    ...(options.padding ? { padding: 'x'.repeat(options.padding) } : {}),
  });
  return { deliveryId, body, headers: signed(body, options.secret) };
}

/** Signature headers for `body`, with a fresh timestamp. */
function signed(body: string, secret = SECRET): Record<string, string> {
  const timestamp = Math.floor(Date.now() / 1000);
  return {
    'content-type': 'application/json',
    'x-simulator-timestamp': String(timestamp),
    'x-simulator-signature': signWebhook(secret, timestamp, body),
  };
}

interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
}

async function post(
  instanceId: string,
  d: { body: string; headers: Record<string, string> },
  scheduler: Scheduler = primary(),
): Promise<Answer> {
  const response = await fetch(`${scheduler.webhookUrl}/${instanceId}`, { method: 'POST', headers: d.headers, body: d.body });
  return { status: response.status, headers: response.headers, text: await response.text() };
}

/** POSTs without Content-Length (chunked), as a client that does not announce the size. */
function postChunked(url: string, headers: Record<string, string>, body: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'POST', headers: { ...headers, 'transfer-encoding': 'chunked' } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        const answerHeaders = new Headers();
        for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') answerHeaders.set(name, value);
        resolve({ status: response.statusCode!, headers: answerHeaders, text });
      });
    });
    // The server may close the connection as soon as it has answered; the answer is what counts.
    request.on('error', reject);
    for (let at = 0; at < body.length; at += 64 * 1024) request.write(body.slice(at, at + 64 * 1024));
    request.end();
  });
}

/** The answer is `{ error, message }` JSON with the status, and shows no stack, file path or HTML. */
function expectJsonRefusal(answer: Answer, status: number, error: string): { error: string; message: string } {
  expect(answer.status, answer.text).toBe(status);
  expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
  expect(answer.text).not.toMatch(/\n\s*at |<html|<pre>|\/work\/|node_modules|\.ts:\d+|\.js:\d+/i);
  const body = JSON.parse(answer.text) as { error: string; message: string };
  expect(body).toEqual({ error, message: expect.any(String) });
  return body;
}

/** `scan.data.file` jobs for the instance (and the file, if given), whatever their state. */
async function jobs(instanceId: string, fileExternalId?: string): Promise<number> {
  const data = fileExternalId ? { instanceId, fileExternalId } : { instanceId };
  return (await primary().agenda.queryJobs({ name: FILE_CHANGED_JOB, data })).total;
}

const changed = (externalId: string): Notice => ({ kind: 'file.changed', externalId });

describe('replayed deliveries', () => {
  it('accepts a delivery once and refuses its replay with 409, enqueuing nothing more', async () => {
    const id = await instance();
    const first = delivery([changed('file-a'), changed('file-b')]);
    const accepted = await post(id, first);
    expect(accepted.status, accepted.text).toBe(202);
    expect(JSON.parse(accepted.text)).toEqual({ accepted: 2, rescans: 2 });
    expect(await jobs(id)).toBe(2);

    for (let i = 0; i < 4; i++) {
      const replay = expectJsonRefusal(await post(id, first), 409, 'replayed_delivery');
      expect(replay.message).toMatch(/replay/);
    }
    // Re-signing the same delivery id with a fresh timestamp does not make it new.
    expectJsonRefusal(await post(id, { body: first.body, headers: signed(first.body) }), 409, 'replayed_delivery');
    expect(await jobs(id)).toBe(2);
  });

  it('refuses a replay sent to another scheduler process, and lets one of two simultaneous receipts through', async () => {
    const id = await instance();
    const once = delivery([changed('file-c')]);
    expect((await post(id, once)).status).toBe(202);
    expectJsonRefusal(await post(id, once, second), 409, 'replayed_delivery');

    const raced = delivery([changed('file-d')]);
    const answers = await Promise.all([post(id, raced), post(id, raced, second)]);
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409]);
    expect(await jobs(id, 'file-c')).toBe(1);
    expect(await jobs(id, 'file-d')).toBe(1);
  });

  it('records a delivery id only once verified: a forged request cannot burn a legitimate id', async () => {
    const id = await instance();
    const genuine = delivery([changed('file-e')]);
    const forged = { body: genuine.body, headers: signed(genuine.body, 'not-the-secret') };
    const refused = expectJsonRefusal(await post(id, forged), 401, 'unverified_delivery');
    expect(refused.message).toBe('signature does not match the body and timestamp');
    expect(await jobs(id)).toBe(0);
    expect((await post(id, genuine)).status).toBe(202);
    expect(await jobs(id)).toBe(1);
  });
});

describe('size and notice limits', () => {
  it('refuses a body over WEBHOOK_MAX_BYTES with 413 JSON before reading it, announced or chunked, and enqueues nothing', async () => {
    const id = await instance();
    const oversized = delivery([changed('file-big')], { padding: MAX_BYTES });
    expect(Buffer.byteLength(oversized.body)).toBeGreaterThan(MAX_BYTES);
    const announced = expectJsonRefusal(await post(id, oversized), 413, 'body_too_large');
    expect(announced.message).toBe(`the body is larger than WEBHOOK_MAX_BYTES (${MAX_BYTES} bytes)`);
    const chunked = await postChunked(`${primary().webhookUrl}/${id}`, oversized.headers, oversized.body);
    expect(expectJsonRefusal(chunked, 413, 'body_too_large').message).toBe(announced.message);
    expect(await jobs(id)).toBe(0);
  });

  it('refuses a verified delivery naming more than WEBHOOK_MAX_NOTICES notices and enqueues nothing; at the limit it is accepted', async () => {
    const id = await instance();
    // The security review's delivery: 15,000 notices in about 0.9 MB, under the size limit.
    const flood = delivery(Array.from({ length: 15_000 }, (_, i) => changed(`f${i}`)));
    expect(Buffer.byteLength(flood.body)).toBeLessThan(MAX_BYTES);
    const refused = expectJsonRefusal(await post(id, flood), 413, 'too_many_notices');
    expect(refused.message).toBe(`the delivery names 15000 notices; at most WEBHOOK_MAX_NOTICES (${MAX_NOTICES}) are accepted`);
    expectJsonRefusal(
      await post(id, delivery(Array.from({ length: MAX_NOTICES + 1 }, () => changed('one-file')))),
      413,
      'too_many_notices',
    );
    expect(await jobs(id)).toBe(0);

    const atLimit = await post(id, delivery(Array.from({ length: MAX_NOTICES }, (_, i) => changed(i % 2 ? 'odd' : 'even'))));
    expect(atLimit.status, atLimit.text).toBe(202);
    expect(JSON.parse(atLimit.text)).toEqual({ accepted: MAX_NOTICES, rescans: 2 });
    expect(await jobs(id)).toBe(2);
  });

  it('collapses the notices for one file in a delivery into one rescan (a change and a deletion alike)', async () => {
    const id = await instance();
    const notices: Notice[] = Array.from({ length: 20 }, (_, i) => ({
      kind: i % 3 ? 'file.changed' : 'file.deleted',
      externalId: 'same-file',
    }));
    const answer = await post(id, delivery([...notices, { kind: 'user.changed', externalId: 'u1' }]));
    expect(answer.status, answer.text).toBe(202);
    expect(JSON.parse(answer.text)).toEqual({ accepted: 21, rescans: 1 });
    expect(await jobs(id, 'same-file')).toBe(1);
    expect(await jobs(id)).toBe(1);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past WEBHOOK_RATE_PER_MINUTE deliveries for the instance, on any scheduler', async () => {
    const id = await instance();
    // Every delivery counts, verified or not: the limit is taken before the signature is checked.
    for (let i = 0; i < RATE_PER_MINUTE; i++) {
      const answer = await post(id, { body: 'x', headers: { 'content-type': 'text/plain' } }, i % 2 ? second : primary());
      expect(answer.status, answer.text).toBe(401);
    }
    for (const scheduler of [primary(), second]) {
      const limited = await post(id, delivery([changed('file-late')]), scheduler);
      const body = expectJsonRefusal(limited, 429, 'rate_limited');
      expect(body.message).toMatch(new RegExp(`WEBHOOK_RATE_PER_MINUTE \\(${RATE_PER_MINUTE}\\)`));
      const retryAfter = Number(limited.headers.get('retry-after'));
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect(await jobs(id)).toBe(0);
    // Another instance has its own allowance.
    expect((await post(await instance(), delivery([changed('file-other')]))).status).toBe(202);
  });

  it('answers an unknown instance 404 before the rate limit, leaving no rate row behind', async () => {
    const unknown = randomUUID();
    for (let i = 0; i < RATE_PER_MINUTE + 2; i++) expectJsonRefusal(await post(unknown, delivery([changed('f')])), 404, 'unknown_instance');
    expectJsonRefusal(await post('not-an-id', delivery([changed('f')])), 404, 'unknown_instance');
    const { rows } = await db.query('select key from scheduler.webhook_rate where key like $1', [`%${unknown}%`]);
    expect(rows).toEqual([]);
  });
});

describe('subscription validation handshakes', () => {
  it('echoes a validation token as text/plain for a known instance only, and refuses an oversized one', async () => {
    const id = await instance();
    const handshake = async (instanceId: string, token: string): Promise<Answer> => {
      const response = await fetch(`${primary().webhookUrl}/${instanceId}?validationToken=${encodeURIComponent(token)}`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      return { status: response.status, headers: response.headers, text: await response.text() };
    };
    const token = 'Validation: Testing client application reachability for subscription Request-Id: 1234';
    const ok = await handshake(id, token);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(ok.headers.get('x-content-type-options')).toBe('nosniff');
    expect(ok.text).toBe(token);
    expectJsonRefusal(await handshake(randomUUID(), token), 404, 'unknown_instance');
    expectJsonRefusal(await handshake(id, 'x'.repeat(1025)), 401, 'unverified_delivery');
  });
});

describe('unreadable requests', () => {
  it('answers non-JSON, malformed JSON, undecodable and unroutable requests with 4xx JSON, never a stack or a page', async () => {
    const id = await instance();
    const url = `${primary().webhookUrl}/${id}`;
    const send = async (init: RequestInit & { path?: string }) => {
      const response = await fetch(init.path ? `${primary().webhookUrl.replace(/\/webhooks$/, '')}${init.path}` : url, init);
      return { status: response.status, headers: response.headers, text: await response.text() } as Answer;
    };
    // Unsigned plain text, and signed bodies that are not JSON or not complete JSON.
    expectJsonRefusal(await send({ method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 401, 'unverified_delivery');
    for (const body of ['not json at all', '{"tenantId":"acme","deliveryId":', '\u0000\u00ff binary']) {
      const refused = expectJsonRefusal(await send({ method: 'POST', headers: signed(body), body }), 401, 'unverified_delivery');
      expect(refused.message).toBe('body is not JSON');
    }
    const wrongShape = JSON.stringify({ notices: 'none' });
    expectJsonRefusal(await send({ method: 'POST', headers: signed(wrongShape), body: wrongShape }), 401, 'unverified_delivery');
    // A body the parser cannot decode: bad gzip, an unknown encoding, an unknown charset.
    expectJsonRefusal(
      await send({ method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' }, body: 'not gzip' }),
      400,
      'bad_request',
    );
    expectJsonRefusal(
      await send({ method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': 'x-unknown' }, body: '{}' }),
      415,
      'unsupported_encoding',
    );
    // A path Express cannot decode, and paths and methods the receiver does not serve.
    expectJsonRefusal(await send({ method: 'POST', path: '/webhooks/%E0%A4%A', body: '{}' }), 400, 'bad_request');
    expectJsonRefusal(await send({ method: 'GET' }), 404, 'not_found');
    expectJsonRefusal(await send({ method: 'POST', path: '/elsewhere', body: '{}' }), 404, 'not_found');
    expect(await jobs(id)).toBe(0);
  });
});
