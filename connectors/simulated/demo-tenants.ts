import type { TenantSpec } from './spec.js';

/** The two demo tenants `npm run simulator` and `npm start` host by default: live activity, a little lag, modest limits. */
export const DEMO_TENANTS: readonly TenantSpec[] = [
  {
    id: 'acme',
    name: 'Acme Corp',
    token: 'acme-demo-token-0001',
    seed: 1,
    users: 60,
    groups: 8,
    files: 150,
    grants: 80,
    activityPerMinute: 12,
    rateLimitPerMinute: 600,
    auditLagMs: 90_000,
  },
  {
    id: 'globex',
    name: 'Globex',
    token: 'globex-demo-token-0002',
    seed: 2,
    users: 35,
    groups: 6,
    files: 90,
    grants: 40,
    activityPerMinute: 6,
    rateLimitPerMinute: 300,
    auditLagMs: 180_000,
  },
];
