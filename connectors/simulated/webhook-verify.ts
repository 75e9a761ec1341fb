import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejectedError, type VerifiedWebhook, type WebhookDelivery, type WebhookNotice } from '../contract.js';
import { WireLifecycleEvent, WireNoticeKind, WireSubscriptionDelivery, WireWebhook } from './wire.js';

/** Deliveries older (or newer) than this are replays: Box uses 10 minutes, Stripe 5. */
export const REPLAY_WINDOW_MS = 5 * 60_000;

/** The longest `deliveryId` accepted (the contract's bound on delivery ids). */
export const MAX_DELIVERY_ID_LENGTH = 200;

/** The longest clientState a subscription takes (as Graph's). */
export const MAX_CLIENT_STATE_LENGTH = 128;

/** The signed timestamp (epoch seconds), within {@link REPLAY_WINDOW_MS} of `now`; throws otherwise. */
function timestampOf(delivery: WebhookDelivery, now: Date): number {
  const rawTimestamp = delivery.headers.get('x-simulator-timestamp');
  if (rawTimestamp === null || !/^\d{1,12}$/.test(rawTimestamp.trim()))
    throw new WebhookRejectedError('missing or malformed X-Simulator-Timestamp (epoch seconds expected)');
  const timestamp = Number(rawTimestamp.trim());
  const skew = now.getTime() - timestamp * 1000;
  if (Math.abs(skew) > REPLAY_WINDOW_MS) {
    throw new WebhookRejectedError(
      `timestamp is ${Math.round(Math.abs(skew) / 1000)} s ${skew > 0 ? 'old' : 'in the future'}, outside the ${REPLAY_WINDOW_MS / 60_000}-minute replay window`,
    );
  }
  return timestamp;
}

function checkedDeliveryId(deliveryId: string): string {
  if (deliveryId.length === 0 || deliveryId.length > MAX_DELIVERY_ID_LENGTH)
    throw new WebhookRejectedError(`deliveryId must be 1 to ${MAX_DELIVERY_ID_LENGTH} characters`);
  return deliveryId;
}

function knownNotices(notices: readonly { kind: string; externalId: string }[]): WebhookNotice[] {
  const known: WebhookNotice[] = [];
  for (const notice of notices) {
    const kind = WireNoticeKind.safeParse(notice.kind);
    if (kind.success) known.push({ kind: kind.data, externalId: notice.externalId });
  }
  return known;
}

/** The JSON body, or undefined when it is none. */
function jsonOf(rawBody: Buffer): unknown {
  try {
    return JSON.parse(rawBody.toString('utf8'));
  } catch {
    return undefined;
  }
}

/**
 * The clientState of an instance's change subscriptions: derived from its webhookSecret (so the
 * secret itself never travels, as a clientState does in every delivery), stable across restarts.
 */
export function subscriptionClientState(secret: string): string {
  return createHmac('sha256', secret).update('tenantwatch change subscriptions').digest('base64url');
}

/**
 * Verifies a simulator delivery: one of a change subscription (its body names a `subscriptionId`;
 * {@link readSubscriptionDelivery}), or one to the webhook set out of band, signed with `secret`
 * ({@link verifySimulatorWebhook}).
 */
export function verifySimulatorDelivery(secret: string | undefined, delivery: WebhookDelivery, now: Date): VerifiedWebhook {
  const body = jsonOf(delivery.rawBody);
  if (typeof body === 'object' && body !== null && 'subscriptionId' in body) return readSubscriptionDelivery(secret, body, delivery, now);
  return verifySimulatorWebhook(secret, delivery, now);
}

/**
 * A change subscription's delivery (subscriptions.ts): notices or a lifecycle event, with the
 * subscription's clientState, which must be the instance's (compared in constant time; the delivery
 * carries no signature, as Graph's do not), and `X-Simulator-Timestamp` within the replay window.
 * `reauthorizationRequired` and `subscriptionRemoved` ask for a sync of the subscriptions; `missed`
 * reads the file change feed. Throws {@link WebhookRejectedError} saying what is wrong.
 */
export function readSubscriptionDelivery(secret: string | undefined, body: unknown, delivery: WebhookDelivery, now: Date): VerifiedWebhook {
  if (!secret) throw new WebhookRejectedError('no webhookSecret is configured for this instance, so no clientState can be verified');
  const timestamp = timestampOf(delivery, now);
  const parsed = WireSubscriptionDelivery.safeParse(body);
  if (!parsed.success)
    throw new WebhookRejectedError(
      'body is not a subscription delivery { tenantId, deliveryId, subscriptionId, clientState, notices or lifecycleEvent }',
    );
  const { subscriptionId, clientState, lifecycleEvent } = parsed.data;
  if (
    clientState.length === 0 ||
    clientState.length > MAX_CLIENT_STATE_LENGTH ||
    subscriptionId.length === 0 ||
    subscriptionId.length > 200
  )
    throw new WebhookRejectedError(`clientState must be 1 to ${MAX_CLIENT_STATE_LENGTH} characters and subscriptionId 1 to 200`);
  const given = Buffer.from(clientState);
  const want = Buffer.from(subscriptionClientState(secret));
  if (given.length !== want.length || !timingSafeEqual(given, want))
    throw new WebhookRejectedError('the delivery carries a wrong clientState');
  const event = lifecycleEvent === undefined ? undefined : WireLifecycleEvent.safeParse(lifecycleEvent);
  if (event && !event.success) throw new WebhookRejectedError(`unknown lifecycleEvent; accepted: ${WireLifecycleEvent.options.join(', ')}`);
  const lifecycle: WebhookNotice[] =
    event?.data === 'missed'
      ? [{ kind: 'files.changed', externalId: '*' }]
      : event?.success
        ? [{ kind: 'subscriptions.stale', externalId: subscriptionId }]
        : [];
  return {
    deliveryId: checkedDeliveryId(parsed.data.deliveryId),
    expiresAt: new Date(timestamp * 1000 + REPLAY_WINDOW_MS),
    notices: [...knownNotices(parsed.data.notices ?? []), ...lifecycle],
  };
}

/**
 * Verifies a simulator webhook: `X-Simulator-Signature: v1=<hex>` (several comma-separated values
 * are accepted, for secret rotation) must be HMAC-SHA256(secret, "<timestamp>.<raw body>"), compared
 * in constant time, and `X-Simulator-Timestamp` within {@link REPLAY_WINDOW_MS} of `now`. Answers
 * the body's `deliveryId` (signed with the body, as Stripe's event id) and the moment the signature
 * stops verifying (timestamp + window). Throws {@link WebhookRejectedError} saying which check failed.
 */
export function verifySimulatorWebhook(secret: string | undefined, delivery: WebhookDelivery, now: Date): VerifiedWebhook {
  if (!secret) throw new WebhookRejectedError('no webhookSecret is configured for this instance, so no delivery can be verified');
  const timestamp = timestampOf(delivery, now);
  const candidates = (delivery.headers.get('x-simulator-signature') ?? '')
    .split(',')
    .map((part) => part.trim())
    .filter((part) => /^v1=[0-9a-f]{64}$/i.test(part))
    .map((part) => Buffer.from(part.slice(3), 'hex'));
  if (candidates.length === 0) throw new WebhookRejectedError('missing or malformed X-Simulator-Signature (v1=<64 hex digits> expected)');
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(delivery.rawBody).digest();
  // Check every candidate, so the time taken does not reveal which one matched.
  const matched = candidates.reduce((ok, candidate) => timingSafeEqual(candidate, expected) || ok, false);
  if (!matched) throw new WebhookRejectedError('signature does not match the body and timestamp');
  let body: unknown;
  try {
    body = JSON.parse(delivery.rawBody.toString('utf8'));
  } catch {
    throw new WebhookRejectedError('body is not JSON');
  }
  const parsed = WireWebhook.safeParse(body);
  if (!parsed.success) throw new WebhookRejectedError('body is not a simulator delivery { tenantId, deliveryId, notices }');
  return {
    deliveryId: checkedDeliveryId(parsed.data.deliveryId),
    expiresAt: new Date(timestamp * 1000 + REPLAY_WINDOW_MS),
    notices: knownNotices(parsed.data.notices),
  };
}
