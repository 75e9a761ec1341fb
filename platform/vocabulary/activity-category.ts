import { registerEnumType } from 'type-graphql';

/** What kind of audit event: a user's action, an administrator's, or a sign-in. */
export const ActivityCategory = {
  USER: 'USER',
  ADMIN: 'ADMIN',
  SIGN_IN: 'SIGN_IN',
} as const;
export type ActivityCategory = (typeof ActivityCategory)[keyof typeof ActivityCategory];
registerEnumType(ActivityCategory, { name: 'ActivityCategory' });
