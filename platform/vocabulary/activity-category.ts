import { registerEnumType } from 'type-graphql';

/** What kind of audit event: a user's action, an administrator's, or a sign-in. */
export const ActivityCategory = {
  USER: 'USER',
  ADMIN: 'ADMIN',
  SIGN_IN: 'SIGN_IN',
} as const;
export type ActivityCategory = (typeof ActivityCategory)[keyof typeof ActivityCategory];
registerEnumType(ActivityCategory, {
  name: 'ActivityCategory',
  description: 'What kind of audit event an activity is.',
  valuesConfig: {
    USER: { description: "A user's own action on the app's data, e.g. a file download or share." },
    ADMIN: { description: "An administrator's action on the tenant, e.g. a role assigned or a setting changed." },
    SIGN_IN: { description: 'A sign-in attempt, successful or failed.' },
  },
});
