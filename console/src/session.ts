// The signed-in token, shared by the console and GraphiQL (same origin): kept in sessionStorage, so
// it lasts across reloads of the tab and goes when the tab closes.
export const ROLES = ['viewer', 'analyst', 'responder', 'admin'] as const;
export type Role = (typeof ROLES)[number];

const KEY = 'tenantwatch.token';

export interface Session {
  readonly token: string;
  readonly role: Role;
  readonly subject: string;
  readonly expiresAt: number;
}

/** Reads a JWT's claims (no verification: the gateway verifies; this only says which buttons to show). */
export function sessionOf(token: string): Session | undefined {
  try {
    const payload = token.split('.')[1];
    if (!payload) return undefined;
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as {
      roles?: unknown;
      sub?: unknown;
      exp?: unknown;
    };
    const roles = Array.isArray(json.roles) ? json.roles.filter((r): r is Role => (ROLES as readonly string[]).includes(r as string)) : [];
    const role = [...roles].sort((a, b) => ROLES.indexOf(b) - ROLES.indexOf(a))[0];
    if (!role) return undefined;
    return { token, role, subject: String(json.sub ?? ''), expiresAt: Number(json.exp ?? 0) };
  } catch {
    return undefined;
  }
}

export function storedSession(): Session | undefined {
  const token = sessionStorage.getItem(KEY);
  const session = token ? sessionOf(token) : undefined;
  if (session && session.expiresAt * 1000 < Date.now()) return undefined;
  return session;
}

export function storeToken(token: string | undefined): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
}

export function atLeast(session: Session | undefined, role: Role): boolean {
  return session !== undefined && ROLES.indexOf(session.role) >= ROLES.indexOf(role);
}

export interface ConsoleSettings {
  readonly developmentSignIn: boolean;
}

export async function consoleSettings(): Promise<ConsoleSettings> {
  const response = await fetch('/console/settings');
  if (!response.ok) return { developmentSignIn: false };
  return (await response.json()) as ConsoleSettings;
}

/** Outside production: a token for `role` from the gateway's development sign-in. */
export async function developmentSignIn(role: Role): Promise<string> {
  const response = await fetch('/console/session', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role }),
  });
  const body = (await response.json()) as { token?: string; errors?: { message: string }[] };
  if (!response.ok || !body.token) throw new Error(body.errors?.[0]?.message ?? `sign-in refused (HTTP ${response.status})`);
  return body.token;
}

export function websocketUrl(): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;
}
