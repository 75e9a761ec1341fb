import { registerEnumType } from 'type-graphql';

/** An account's standing at its provider. */
export const AccountStatus = {
  ACTIVE: 'ACTIVE',
  SUSPENDED: 'SUSPENDED',
  DISABLED: 'DISABLED',
} as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];
registerEnumType(AccountStatus, { name: 'AccountStatus' });
