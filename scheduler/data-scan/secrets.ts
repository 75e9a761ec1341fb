import zlib from 'node:zlib';

// Credentials of one provider each. Like every pattern of the data scan, each runs in time linear in the
// text: it starts only where a lookbehind allows and every repetition is bounded.

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** The number a base62 string (digits, then uppercase, then lowercase letters) stands for. */
function base62Value(digits: string): number {
  let value = 0;
  for (const digit of digits) value = value * 62 + BASE62.indexOf(digit);
  return value;
}

// Classic GitHub tokens: a prefix naming the kind (personal, OAuth, user-to-server, server-to-server,
// refresh), 30 random base62 characters and their CRC32 in 6 base62 digits
// (https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/). Fine-grained personal
// access tokens (github_pat_) publish no checksum: their shape alone is checked.
export const GITHUB_TOKEN = /(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59})(?![A-Za-z0-9_])/g;

/** Whether a GitHub token's checksum holds (fine-grained tokens, which have none, always pass). */
export function hasGithubChecksum(token: string): boolean {
  if (token.startsWith('github_pat_')) return true;
  const random = token.slice(4, 34);
  return zlib.crc32(random) === base62Value(token.slice(34));
}

// Slack tokens: bot (xoxb), user (xoxp), app-level and workspace (xoxa), refresh (xoxr) and legacy session
// (xoxs); each starts with numeric ids separated by dashes (https://api.slack.com/concepts/token-types).
export const SLACK_TOKEN = /(?<![A-Za-z0-9_-])xox[abprs]-\d{1,20}-[A-Za-z0-9-]{8,250}(?![A-Za-z0-9_-])/g;

// Google API keys: AIza and 35 characters (https://cloud.google.com/docs/authentication/api-keys).
export const GOOGLE_API_KEY = /(?<![A-Za-z0-9_-])AIza[A-Za-z0-9_-]{35}(?![A-Za-z0-9_-])/g;

// Stripe live secret and restricted keys (https://docs.stripe.com/keys); test-mode keys are left out.
export const STRIPE_KEY = /(?<![A-Za-z0-9_])(?:sk|rk)_live_[A-Za-z0-9]{24,247}(?![A-Za-z0-9_])/g;

// An Azure storage account key: 64 bytes in base64 (88 characters), as `AccountKey=` of a connection string
// (https://learn.microsoft.com/azure/storage/common/storage-configure-connection-string) or the value of an
// AZURE_STORAGE_KEY / AZURE_STORAGE_ACCOUNT_KEY setting. A bare 88-character string says too little.
export const AZURE_STORAGE_KEY =
  /(?<![A-Za-z0-9_])(?:AccountKey|AZURE_STORAGE_(?:ACCOUNT_)?KEY)["']?[ \t]{0,8}[=:][ \t]{0,8}["']?[A-Za-z0-9+/]{86}==(?![A-Za-z0-9+/=])/g;

/** Whether the key of an AZURE_STORAGE_KEY match decodes to the 64 bytes a storage key is. */
export function hasAzureKeyLength(match: string): boolean {
  return Buffer.from(match.slice(-88), 'base64').length === 64;
}

// A database URL with a password: user:password@host after one of the usual schemes. The password may hold
// ':' but not '@', '/' or white space (RFC 3986 userinfo, percent-encoded otherwise).
const DATABASE_URL =
  /(?<![A-Za-z0-9+.-])(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|mssql|sqlserver|amqps?|oracle|jdbc:[a-z]{2,20}):\/\/[^\s:/@]{1,128}:([^\s/@]{1,256})@[A-Za-z0-9[]/gi;

// An ADO.NET / ODBC connection string: `key=value;` pairs on one line, with a password and a server.
const PASSWORD_KEY = /(?<![A-Za-z0-9_])(?:password|pwd)[ \t]{0,8}=[ \t]{0,8}([^;\r\n]{1,256})/gi;
const SERVER_KEY = /(?<![A-Za-z0-9_])(?:server|data source|host|address|addr|network address)[ \t]{0,8}=[ \t]{0,8}[^;\s]/i;
/** How far back on its line a password key looks for the server key of its connection string. */
const CONNECTION_STRING_REACH = 500;

/** A template or a mask in place of a password: `${DB_PASSWORD}`, `{password}`, `<password>`, `%s`, `****`, `xxxxxx`. */
function isPlaceholder(password: string): boolean {
  const value = password.trim().replace(/^["']|["']$/g, '');
  return value === '' || /^(?:\$\{|\{|<|%|\$[A-Z_])/.test(value) || /^(.)\1*$/.test(value);
}

/** Database URLs and connection strings that carry a password (a placeholder is not one). */
export function findConnectionStrings(text: string): number {
  let count = 0;
  if (text.includes('://')) for (const match of text.matchAll(DATABASE_URL)) if (!isPlaceholder(match[1]!)) count++;
  let previousEnd = 0;
  for (const match of text.matchAll(PASSWORD_KEY)) {
    if (isPlaceholder(match[1]!)) continue;
    const lineStart = text.lastIndexOf('\n', match.index) + 1;
    const from = Math.max(lineStart, previousEnd, match.index - CONNECTION_STRING_REACH);
    const before = text.slice(from, match.index);
    // The server key may also come after the password: look at the rest of the connection string's line too.
    const lineEnd = text.indexOf('\n', match.index);
    const after = text.slice(match.index, Math.min(lineEnd === -1 ? text.length : lineEnd, match.index + CONNECTION_STRING_REACH));
    if (SERVER_KEY.test(before) || SERVER_KEY.test(after)) {
      count++;
      previousEnd = match.index + match[0].length;
    }
  }
  return count;
}
