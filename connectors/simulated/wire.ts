import { z } from 'zod';

/**
 * The simulated provider's JSON, as it goes over the wire. The server types its answers with these
 * shapes; the connector parses answers with them, so a change of format fails loudly in one place.
 * Like a real provider, it does not speak Tenantwatch's words: statuses and sharing levels are
 * lowercase, grant scopes are one space-separated string, an event's action is its `type`.
 */

const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time');

export const WireMe = z.object({
  tenantId: z.string(),
  name: z.string(),
  domain: z.string(),
  permissions: z.array(z.string()),
});
export type WireMe = z.infer<typeof WireMe>;

export const WireUser = z.object({
  id: z.string(),
  email: z.string().nullable(),
  name: z.object({ given: z.string(), family: z.string(), full: z.string() }),
  department: z.string().nullable(),
  status: z.enum(['active', 'suspended', 'disabled']),
  admin: z.boolean(),
  adminRoles: z.array(z.string()),
  country: z.string().nullable(),
  createdAt: time,
  lastLoginAt: time.nullable(),
  passwordResetRequired: z.boolean(),
  /** When an admin last ended the user's sessions. */
  sessionsRevokedAt: time.nullable().optional(),
});
export type WireUser = z.infer<typeof WireUser>;

export const WireGroup = z.object({ id: z.string(), name: z.string(), email: z.string(), description: z.string() });
export type WireGroup = z.infer<typeof WireGroup>;

export const WireMember = z.object({ userId: z.string(), role: z.enum(['owner', 'member']) });
export type WireMember = z.infer<typeof WireMember>;

export const WireGrant = z.object({
  id: z.string(),
  clientId: z.string(),
  appDisplayName: z.string(),
  publisher: z.string().nullable(),
  scope: z.string(),
  userId: z.string(),
  createdAt: time,
  lastUsedAt: time.nullable(),
  revoked: z.boolean(),
});
export type WireGrant = z.infer<typeof WireGrant>;

export const WireEvent = z.object({
  id: z.string(),
  category: z.enum(['USER', 'ADMIN', 'SIGN_IN']),
  type: z.string(),
  actor: z.object({ id: z.string(), email: z.string().nullable() }).nullable(),
  time,
  ipAddress: z.string().nullable(),
  geo: z.object({ country: z.string() }).nullable(),
  userAgent: z.string().nullable(),
  outcome: z.enum(['success', 'failure']),
  target: z.object({ type: z.string(), id: z.string() }).nullable(),
  details: z.record(z.string(), z.string()),
});
export type WireEvent = z.infer<typeof WireEvent>;

export const WireFile = z.object({
  id: z.string(),
  name: z.string(),
  path: z.string(),
  mimeType: z.string().nullable(),
  size: z.number().int().min(0),
  ownerId: z.string().nullable(),
  sharing: z.object({ level: z.enum(['private', 'internal', 'external', 'public']), with: z.array(z.string()) }),
  trashed: z.boolean(),
  quarantined: z.boolean(),
  createdAt: time,
  modifiedAt: time,
  etag: z.string(),
  revision: z.number().int(),
});
export type WireFile = z.infer<typeof WireFile>;

export const WireChange = z.discriminatedUnion('type', [
  z.object({ type: z.literal('file.upsert'), fileId: z.string(), file: WireFile }),
  z.object({ type: z.literal('file.deleted'), fileId: z.string() }),
]);
export type WireChange = z.infer<typeof WireChange>;

/** A list answer: `{ items, nextPageToken }`. */
export function wireList<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextPageToken: z.string().nullable() });
}

export const WireChangePage = z.object({
  items: z.array(WireChange),
  nextPageToken: z.string().nullable(),
  deltaCursor: z.string().nullable(),
});

export const WireNoticeKind = z.enum(['file.changed', 'file.deleted', 'user.changed', 'grant.changed']);

/** The body of a webhook delivery. */
export const WireWebhook = z.object({
  tenantId: z.string(),
  deliveryId: z.string(),
  notices: z.array(z.object({ kind: z.string(), externalId: z.string() })),
});
export type WireWebhook = z.infer<typeof WireWebhook>;

/** An error answer: `{ error, message }`. */
export const WireError = z.object({ error: z.string(), message: z.string() });

/** What a change subscription watches: the notices of one kind of record. */
export const WireSubscriptionResource = z.enum(['files', 'users', 'grants']);
export type WireSubscriptionResource = z.infer<typeof WireSubscriptionResource>;

/** A change subscription as the API answers it (its clientState is never shown again). */
export const WireSubscription = z.object({
  id: z.string(),
  resource: WireSubscriptionResource,
  notificationUrl: z.string(),
  lifecycleNotificationUrl: z.string().nullable(),
  createdAt: time,
  expiresAt: time,
  /** Deliveries are paused until the subscription is renewed. */
  reauthorizationRequired: z.boolean(),
});
export type WireSubscription = z.infer<typeof WireSubscription>;

export const WireLifecycleEvent = z.enum(['reauthorizationRequired', 'subscriptionRemoved', 'missed']);

/** A subscription's delivery: its notices, or a lifecycle event, with the subscription's clientState. */
export const WireSubscriptionDelivery = z.object({
  tenantId: z.string(),
  deliveryId: z.string(),
  subscriptionId: z.string(),
  clientState: z.string(),
  notices: z.array(z.object({ kind: z.string(), externalId: z.string() })).optional(),
  lifecycleEvent: z.string().optional(),
});
