/**
 * How much an OAuth grant's scopes allow, for `AppPermission.permissionLevel`: HIGH when any scope
 * writes, sends, administers or reaches all of a resource; MEDIUM when it reads user data; LOW for
 * identity scopes only (openid, email, profile).
 */
export function permissionLevelOf(scopes: readonly string[]): 'LOW' | 'MEDIUM' | 'HIGH' {
  const lower = scopes.map((s) => s.toLowerCase());
  if (lower.some((s) => /(write|send|admin|manage|\.all\b|full|delete|directory\.|sudo|repo$|^repo\b)/.test(s))) return 'HIGH';
  if (lower.some((s) => !/^(openid|email|profile|offline_access|user\.read|read:user|user:email)$/.test(s))) return 'MEDIUM';
  return 'LOW';
}
