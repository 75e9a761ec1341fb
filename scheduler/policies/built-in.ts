import { type PolicyDefinition, PolicyKind, type PolicyService, Severity } from '../../subgraphs/activities/public.js';
import { logger } from '../../platform/logger.js';

/** A policy Tenantwatch installs itself; its fixed id makes installing it idempotent. */
export type BuiltInPolicy = PolicyDefinition & { readonly id: string };

/**
 * The policies enabled on a new install. Thresholds are tuned on the simulator's demo data: each
 * fires on what the generator plants (download bursts of 40+ in 10 minutes, failed sign-in storms
 * of 15+ in 5 minutes, sign-ins from a country nobody lives in, role assignments, exposed files with
 * card numbers, high-permission apps granted by many) and not on ordinary activity (a few events
 * per user per day).
 */
export const BUILT_IN_POLICIES: readonly BuiltInPolicy[] = [
  {
    id: '7e3a0b1c-0001-4000-8000-000000000001',
    name: 'Mass download',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.HIGH,
    description: 'One account downloaded at least 30 files within 10 minutes.',
    condition: { action: 'file.download', succeeded: true, threshold: { count: 30, windowMinutes: 10 }, windowMinutes: 60 },
  },
  {
    id: '7e3a0b1c-0002-4000-8000-000000000002',
    name: 'Sign-in from a new country',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.MEDIUM,
    description: 'A successful sign-in from a country the account was never seen in before.',
    condition: { category: 'SIGN_IN', action: 'user.login', succeeded: true, country: { newForActor: true }, windowMinutes: 1440 },
  },
  {
    id: '7e3a0b1c-0003-4000-8000-000000000003',
    name: 'Repeated failed sign-ins',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.MEDIUM,
    description: 'At least 10 failed sign-ins to one account within 10 minutes.',
    condition: {
      category: 'SIGN_IN',
      action: 'user.login',
      succeeded: false,
      threshold: { count: 10, windowMinutes: 10 },
      windowMinutes: 60,
    },
  },
  {
    id: '7e3a0b1c-0004-4000-8000-000000000004',
    name: 'Admin privilege granted',
    kind: PolicyKind.ACTIVITY,
    severity: Severity.HIGH,
    description: 'An administrator role was assigned to an account (the actor is the one who assigned it).',
    condition: { category: 'ADMIN', action: 'admin.role.assign', succeeded: true, windowMinutes: 60 },
  },
  {
    id: '7e3a0b1c-0005-4000-8000-000000000005',
    name: 'Sensitive file shared externally or publicly',
    kind: PolicyKind.FILE,
    severity: Severity.HIGH,
    description: 'A live file shared outside the company or with anyone holds card numbers, national ids, bank accounts or secrets.',
    condition: {
      sharing: ['EXTERNAL', 'PUBLIC'],
      sensitiveType: ['CREDIT_CARD_NUMBER', 'US_SSN', 'IBAN', 'AWS_ACCESS_KEY', 'PRIVATE_KEY', 'API_TOKEN'],
      minCount: 1,
      trashed: false,
    },
  },
  {
    id: '7e3a0b1c-0006-4000-8000-000000000006',
    name: 'High-permission OAuth app granted',
    kind: PolicyKind.APP_PERMISSION,
    severity: Severity.MEDIUM,
    description:
      'A third-party app holds high permissions (write, send, admin or all-of-a-resource scopes) granted by at least 3 accounts.',
    condition: { permissionLevel: 'HIGH', grantedByAtLeast: 3 },
  },
];

/** Creates the built-in policies missing from the database (never touches existing ones). */
export async function installBuiltInPolicies(policies: PolicyService): Promise<void> {
  const created = await policies.installBuiltIns(BUILT_IN_POLICIES);
  if (created > 0) logger.info({ created }, 'built-in policies installed');
}
