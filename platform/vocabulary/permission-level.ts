import { registerEnumType } from 'type-graphql';

/** How much an OAuth grant's scopes allow: LOW (identity only), MEDIUM (reads user data), HIGH (writes, sends or administers). */
export const PermissionLevel = {
  LOW: 'LOW',
  MEDIUM: 'MEDIUM',
  HIGH: 'HIGH',
} as const;
export type PermissionLevel = (typeof PermissionLevel)[keyof typeof PermissionLevel];
registerEnumType(PermissionLevel, {
  name: 'PermissionLevel',
  description: "How much an OAuth grant's scopes allow, as Tenantwatch classifies them.",
  valuesConfig: {
    LOW: { description: 'Identity only: openid, email, profile, offline_access, User.Read and the like.' },
    MEDIUM: { description: "Reads the user's data: some scope beyond identity, none that writes or administers." },
    HIGH: { description: 'Writes, sends, deletes or administers, or reaches all of a resource (e.g. Files.Read.All).' },
  },
});

/** Every permission level, lowest first. */
export const PERMISSION_LEVELS: readonly PermissionLevel[] = Object.values(PermissionLevel);
