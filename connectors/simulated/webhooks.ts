import { createHmac, randomUUID } from 'node:crypto';
import type { Notice } from './tenant-state.js';

/**
 * Change notifications, signed like Stripe's and Box's: `X-Simulator-Timestamp: <epoch s>` and
 * `X-Simulator-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>`. The body
 * `{ tenantId, deliveryId, notices }` carries a fresh `deliveryId` (a UUID) inside the signed bytes,
 * as Stripe's event `id` and Box's payload `id` are: a receiver refuses a second delivery with the
 * same id. Deliveries are fire-and-forget: a failed one is not retried (webhooks are hints; the scans
 * reconcile).
 */

export const TIMESTAMP_HEADER = 'x-simulator-timestamp';
export const SIGNATURE_HEADER = 'x-simulator-signature';

/** The signature header value of `rawBody` sent at `timestamp` (epoch seconds). */
export function signWebhook(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

export interface WebhookTarget {
  readonly url: string;
  readonly secret: string;
}

/** How long one delivery may take before it is abandoned. */
const DELIVERY_TIMEOUT_MS = 10_000;

/** Fire-and-forget POSTs: a failed one is not retried; `close()` abandons those in flight. */
export class Courier {
  private readonly inFlight = new Set<AbortController>();

  /** POSTs `rawBody` as JSON to `url`; never throws, never waits. */
  post(url: string, headers: Readonly<Record<string, string>>, rawBody: string): void {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), DELIVERY_TIMEOUT_MS);
    timer.unref();
    this.inFlight.add(controller);
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: rawBody, signal: controller.signal })
      .then((response) => response.body?.cancel())
      .catch(() => undefined)
      .finally(() => {
        clearTimeout(timer);
        this.inFlight.delete(controller);
      });
  }

  close(): void {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
  }
}

/** Sends one tenant's notices to the webhook its spec names (set out of band, as an admin would). */
export class WebhookSender {
  constructor(
    private readonly tenantId: string,
    private readonly target: () => WebhookTarget | undefined,
    private readonly clock: () => number,
    private readonly courier: Courier,
  ) {}

  /** POSTs `notices` to the tenant's webhook, if it has one; never throws, never waits. */
  send(notices: readonly Notice[]): void {
    const target = this.target();
    if (!target || notices.length === 0) return;
    const rawBody = JSON.stringify({ tenantId: this.tenantId, deliveryId: randomUUID(), notices });
    const timestamp = Math.floor(this.clock() / 1000);
    this.courier.post(
      target.url,
      { [TIMESTAMP_HEADER]: String(timestamp), [SIGNATURE_HEADER]: signWebhook(target.secret, timestamp, rawBody) },
      rawBody,
    );
  }
}
