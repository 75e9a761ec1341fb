import { registerEnumType } from 'type-graphql';

/** How much an OAuth grant's scopes allow: LOW (identity only), MEDIUM (reads user data), HIGH (writes, sends or administers). */
export const PermissionLevel = {
  LOW: 'LOW',
  MEDIUM: 'MEDIUM',
  HIGH: 'HIGH',
} as const;
export type PermissionLevel = (typeof PermissionLevel)[keyof typeof PermissionLevel];
registerEnumType(PermissionLevel, { name: 'PermissionLevel' });

/** Every permission level, lowest first. */
export const PERMISSION_LEVELS: readonly PermissionLevel[] = Object.values(PermissionLevel);
