import { PermanentError, type PageToken } from '../contract.js';

/** A connector page token: a JSON object, base64url, refused when it is not one this connector made. */
export function encodeToken(token: object): PageToken {
  return Buffer.from(JSON.stringify(token)).toString('base64url');
}

export function decodeToken<T extends object>(token: PageToken | null, check: (value: Record<string, unknown>) => boolean): T | null {
  if (!token) return null;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && check(parsed as Record<string, unknown>))
      return parsed as T;
  } catch {
    // answered below
  }
  throw new PermanentError('The page token is not one this connector made');
}
