import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookRejectedError, type VerifiedWebhook, type WebhookDelivery, type WebhookNotice } from '../contract.js';
import { WireNoticeKind, WireWebhook } from './wire.js';

/** Deliveries older (or newer) than this are replays: Box uses 10 minutes, Stripe 5. */
export const REPLAY_WINDOW_MS = 5 * 60_000;

/** The longest `deliveryId` accepted (the contract's bound on delivery ids). */
export const MAX_DELIVERY_ID_LENGTH = 200;

/**
 * Verifies a simulator webhook: `X-Simulator-Signature: v1=<hex>` (several comma-separated values
 * are accepted, for secret rotation) must be HMAC-SHA256(secret, "<timestamp>.<raw body>"), compared
 * in constant time, and `X-Simulator-Timestamp` within {@link REPLAY_WINDOW_MS} of `now`. Answers
 * the body's `deliveryId` (signed with the body, as Stripe's event id) and the moment the signature
 * stops verifying (timestamp + window). Throws {@link WebhookRejectedError} saying which check failed.
 */
export function verifySimulatorWebhook(secret: string | undefined, delivery: WebhookDelivery, now: Date): VerifiedWebhook {
  if (!secret) throw new WebhookRejectedError('no webhookSecret is configured for this instance, so no delivery can be verified');
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
  const { deliveryId } = parsed.data;
  if (deliveryId.length === 0 || deliveryId.length > MAX_DELIVERY_ID_LENGTH)
    throw new WebhookRejectedError(`deliveryId must be 1 to ${MAX_DELIVERY_ID_LENGTH} characters`);
  const notices: WebhookNotice[] = [];
  for (const notice of parsed.data.notices) {
    const kind = WireNoticeKind.safeParse(notice.kind);
    if (kind.success) notices.push({ kind: kind.data, externalId: notice.externalId });
  }
  return { deliveryId, expiresAt: new Date(timestamp * 1000 + REPLAY_WINDOW_MS), notices };
}
