import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { AccessToken } from './auth.js';
import type { Customer } from './customer.js';
import { badRequest, invalidValue, outOfRange } from './errors.js';
import type { GoogleApi } from './spec.js';
import type { EmuUser } from './tenant.js';

/** What a route answers: JSON (through `fields`), bytes, or nothing (204). */
export interface Reply {
  readonly status: number;
  readonly json?: unknown;
  readonly bytes?: Buffer;
  readonly contentType?: string;
  readonly headers?: Record<string, string>;
}

export interface Ctx {
  readonly customer: Customer;
  readonly token: AccessToken;
  /** The impersonated user (null: the service account acting as itself). */
  readonly user: EmuUser | null;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly req: IncomingMessage;
  readonly body: () => Promise<Buffer>;
  readonly now: number;
  /** The emulator's origin (`https://127.0.0.1:port`), for URLs in answers. */
  readonly baseUrl: string;
}

export interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly api: GoogleApi;
  /** The method's name as in the discovery document (`directory.users.list`), for stats and scope errors. */
  readonly name: string;
  /** Any one of these scopes lets the call through (each method's reference page lists them). */
  readonly scopes: readonly string[];
  /** The Admin SDK privilege the impersonated user needs (an administrator's), if any. */
  readonly privilege?: string;
  /** The fields answered when the request names none (Drive v3 answers a default subset of each resource). */
  readonly defaultFields?: string;
  handle(ctx: Ctx): Reply | Promise<Reply>;
}

export const json = (value: unknown, status = 200): Reply => ({ status, json: value });
export const noContent = (): Reply => ({ status: 204 });

export async function readJson(ctx: Ctx): Promise<Record<string, unknown>> {
  const text = (await ctx.body()).toString('utf8');
  if (!text.trim()) return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw badRequest('Invalid JSON payload received.');
}

/** `name` as an integer within [min, max], or `fallback` when absent; out of range or not a number is a 400 at `name`. */
export function intParam(query: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = query.get(name);
  if (raw === null || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw invalidValue(name, `Invalid value '${raw}'. Values must be integers.`);
  if (value < min || value > max) throw outOfRange(name, raw, min, max);
  return value;
}

export const boolParam = (query: URLSearchParams, name: string) => query.get(name) === 'true';

/**
 * Opaque page tokens: the position of the next page, signed by the emulator, so that a token it did
 * not make (or one of another list) is refused as the APIs refuse it: 400 "Invalid Value" at `pageToken`.
 */
export class PageTokens {
  private readonly key = randomBytes(32);

  make(list: string, position: unknown): string {
    const body = Buffer.from(JSON.stringify({ l: list, p: position })).toString('base64url');
    return `${body}.${this.tag(body)}`;
  }

  read<T>(list: string, token: string | null): T | null {
    if (token === null || token === '') return null;
    const [body, tag] = token.split('.');
    if (body && tag) {
      const expected = Buffer.from(this.tag(body));
      const given = Buffer.from(tag);
      if (expected.length === given.length && timingSafeEqual(expected, given)) {
        const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { l: string; p: T };
        if (parsed.l === list) return parsed.p;
      }
    }
    throw invalidValue('pageToken');
  }

  private tag(body: string): string {
    return createHmac('sha256', this.key).update(body).digest('base64url').slice(0, 22);
  }
}

/** One page of `items` from an offset token: the page and the next token (absent on the last page). */
export function offsetPage<T>(tokens: PageTokens, list: string, items: readonly T[], query: URLSearchParams, size: number) {
  const offset = tokens.read<number>(list, query.get('pageToken')) ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw invalidValue('pageToken');
  const page = items.slice(offset, offset + size);
  const nextPageToken = offset + size < items.length ? tokens.make(list, offset + size) : undefined;
  return { page, nextPageToken };
}
