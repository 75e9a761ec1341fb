import { registerEnumType } from 'type-graphql';

/** An account's standing at its provider. */
export const AccountStatus = {
  ACTIVE: 'ACTIVE',
  SUSPENDED: 'SUSPENDED',
  DISABLED: 'DISABLED',
} as const;
export type AccountStatus = (typeof AccountStatus)[keyof typeof AccountStatus];
registerEnumType(AccountStatus, {
  name: 'AccountStatus',
  description: "An account's standing at its provider, as the last scan (or a governance action) found it.",
  valuesConfig: {
    ACTIVE: { description: 'Can sign in at the provider.' },
    SUSPENDED: {
      description: 'Blocked from signing in at the provider (by its administrators or suspendAccount); unsuspendAccount lifts it.',
    },
    DISABLED: { description: 'Deactivated at the provider itself, beyond a suspension; Tenantwatch can neither suspend nor unsuspend it.' },
  },
});
