/** What a secret is replaced with in the audit log. */
export const REDACTED = '[REDACTED]';

/**
 * Key names (compared lowercased, without `_` and `-`) whose values are always secrets, whatever
 * carries them: connector configs, alert sinks, tokens.
 */
const SECRET_KEYS = new Set(['key', 'apikey', 'privatekey', 'privatekeypem', 'certificate', 'passphrase', 'credentials', 'authorization']);
/** Parts of key names that mark a secret: `clientSecret`, `refreshToken`, `adminPassword`... */
const SECRET_KEY_PARTS = ['secret', 'token', 'password', 'privatekey', 'apikey', 'credential'];

/** A PEM block or a JWT: a secret wherever it appears. */
const SECRET_VALUE = /-----BEGIN [A-Z ]+-----|^eyJ[\w-]+\.[\w-]+\.[\w-]*$/;

/** Nesting below this depth is not kept (GraphQL input is bounded by the query limits anyway). */
const MAX_DEPTH = 12;
/** Strings longer than this are cut. */
const MAX_STRING = 2_000;
/** Array items kept per array. */
const MAX_ITEMS = 200;

const normalize = (key: string) => key.toLowerCase().replace(/[_-]/g, '');

/**
 * Decides which keys hold secrets: the fixed denylist above plus `secretFields` (the connectors'
 * config fields marked `secret`, so that a new connector's secrets are covered by declaring them).
 */
export function secretKeyMatcher(secretFields: readonly string[] = []): (key: string) => boolean {
  const extra = new Set(secretFields.map(normalize));
  return (key) => {
    const k = normalize(key);
    return SECRET_KEYS.has(k) || extra.has(k) || SECRET_KEY_PARTS.some((part) => k.includes(part));
  };
}

/** A URL without what may carry a credential: its user info, query and fragment (only the origin for a webhook `url`). */
function redactUrl(text: string, originOnly: boolean): string | undefined {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) return undefined;
  try {
    const url = new URL(text);
    const hidden = url.username || url.password || url.search || url.hash || (originOnly && url.pathname !== '/');
    if (!hidden) return text;
    if (originOnly) return `${url.origin}/${REDACTED}`;
    url.username = '';
    url.password = '';
    const path = `${url.origin}${url.pathname}`;
    return url.search || url.hash ? `${path}?${REDACTED}` : path;
  } catch {
    return REDACTED;
  }
}

/**
 * A copy of a mutation's arguments fit for the audit log: the value of every key `isSecret` names
 * replaced by {@link REDACTED} (at any depth), PEM blocks and JWTs replaced wherever they are, URLs
 * stripped of user info, query and fragment (a sink's `url`: its origin only, since webhook paths
 * often are the credential), long strings cut. Never throws.
 */
export function redact(value: unknown, isSecret: (key: string) => boolean, depth = 0, key = ''): unknown {
  if (value === null || value === undefined) return value ?? null;
  if (typeof value === 'string') {
    if (SECRET_VALUE.test(value)) return REDACTED;
    const url = redactUrl(value, normalize(key) === 'url');
    const text = url ?? value;
    return text.length > MAX_STRING ? `${text.slice(0, MAX_STRING)}…` : text;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return value;
  if (typeof value === 'bigint') return value.toString();
  if (depth >= MAX_DEPTH) return '[TOO DEEP]';
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.slice(0, MAX_ITEMS).map((item) => redact(item, isSecret, depth + 1, key));
  if (typeof value === 'object') {
    const copy: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      copy[k] = isSecret(k) && v !== null && v !== undefined ? REDACTED : redact(v, isSecret, depth + 1, k);
    }
    return copy;
  }
  return String(value);
}
