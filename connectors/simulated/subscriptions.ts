import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { ApiError, notFound } from './api-error.js';
import { parseSpec, SpecError } from './spec.js';
import type { Notice } from './tenant-state.js';
import { TIMESTAMP_HEADER, type Courier } from './webhooks.js';
import { WireLifecycleEvent, WireSubscriptionResource, type WireSubscription, type WireSubscriptionResource as Resource } from './wire.js';

/**
 * Change subscriptions made by the subscriber through the API, on Microsoft Graph's model
 * (https://learn.microsoft.com/en-us/graph/api/subscription-post-subscriptions): creating one runs a
 * validation handshake against its URLs, it expires unless renewed, every notification carries its
 * clientState, and lifecycle notifications tell the subscriber to renew, recreate or resynchronise.
 */

/** Live subscriptions a tenant keeps at most (Graph limits them per app and tenant too). */
export const MAX_SUBSCRIPTIONS = 100;

/** How long the subscriber's endpoint has to echo the validation token (Graph: 10 seconds). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export type LifecycleEvent = z.infer<typeof WireLifecycleEvent>;

/** One subscription, with its secret and what it was sent. */
export interface SimSubscription {
  readonly id: string;
  readonly resource: Resource;
  readonly notificationUrl: string;
  readonly lifecycleNotificationUrl: string | null;
  readonly clientState: string;
  readonly createdAt: number;
  expiresAt: number;
  reauthorizationRequired: boolean;
  /** Change notifications sent to it so far. */
  deliveries: number;
}

/** A subscription as the admin API shows it: the wire form plus its clientState and deliveries. */
export type SubscriptionTruth = WireSubscription & { readonly clientState: string; readonly deliveries: number };

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const time = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an ISO 8601 time such as 2026-03-02T13:00:00Z');

const CreateBody = z
  .object({
    resource: WireSubscriptionResource,
    notificationUrl: httpUrl,
    lifecycleNotificationUrl: httpUrl.optional(),
    clientState: z
      .string({ error: 'required: 1 to 128 characters' })
      .min(1, 'must be 1 to 128 characters')
      .max(128, 'must be 1 to 128 characters'),
    /** Default and cap: now + the tenant's maxSubscriptionLifetimeSeconds. */
    expiresAt: time.optional(),
  })
  .strict();
const RenewBody = z.object({ expiresAt: time }).strict();
export const LifecycleBody = z.object({ event: WireLifecycleEvent }).strict();

/** Parses a request body, or throws a 400 naming each bad field. */
function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  try {
    return parseSpec(schema, body, 'body');
  } catch (error) {
    throw error instanceof SpecError ? new ApiError(400, 'invalid_request', error.message) : error;
  }
}

/** Which resource's subscribers hear of a notice. */
const RESOURCE_OF: Readonly<Record<Notice['kind'], Resource>> = {
  'file.changed': 'files',
  'file.deleted': 'files',
  'user.changed': 'users',
  'grant.changed': 'grants',
};

function wire(s: SimSubscription): WireSubscription {
  return {
    id: s.id,
    resource: s.resource,
    notificationUrl: s.notificationUrl,
    lifecycleNotificationUrl: s.lifecycleNotificationUrl,
    createdAt: new Date(s.createdAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    reauthorizationRequired: s.reauthorizationRequired,
  };
}

/** `url` with `validationToken` added to its query. */
function withToken(url: string, token: string): string {
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  return target.toString();
}

/** One tenant's subscriptions. */
export class SubscriptionRegistry {
  private readonly live = new Map<string, SimSubscription>();
  private readonly handshakes = new Set<AbortController>();

  constructor(
    private readonly tenantId: string,
    private readonly maxLifetimeMs: () => number,
    private readonly clock: () => number,
    private readonly courier: Courier,
  ) {}

  /** Forgets the expired ones: the provider delivers nothing after a subscription's expiry. */
  private sweep(now: number): void {
    for (const [id, s] of this.live) if (s.expiresAt <= now) this.live.delete(id);
  }

  private get(id: string, now: number): SimSubscription {
    this.sweep(now);
    const found = this.live.get(id);
    if (!found) throw notFound('subscription', id);
    return found;
  }

  /** The expiry asked for, capped at now + the maximum lifetime; one in the past is a 400. */
  private expiry(asked: string | undefined, now: number): number {
    const cap = now + this.maxLifetimeMs();
    if (asked === undefined) return cap;
    const at = Date.parse(asked);
    if (at <= now) throw new ApiError(400, 'invalid_request', 'expiresAt: must be in the future');
    return Math.min(at, cap);
  }

  /**
   * The validation handshake: POST `<url>?validationToken=<token>`, which must answer 200 with the
   * token as its whole text/plain body within {@link HANDSHAKE_TIMEOUT_MS}. Throws a 400 naming `field`.
   */
  private async handshake(field: string, url: string): Promise<void> {
    const token = `Validation: simulator subscription ${randomUUID()}`;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), HANDSHAKE_TIMEOUT_MS);
    this.handshakes.add(controller);
    let outcome: string;
    try {
      const response = await fetch(withToken(url, token), {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        signal: controller.signal,
      });
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      outcome =
        response.status !== 200
          ? `answered HTTP ${response.status}`
          : !type.startsWith('text/plain')
            ? `answered ${type || 'no content type'} instead of text/plain`
            : text !== token
              ? 'did not echo the validation token'
              : 'ok';
    } catch {
      outcome = controller.signal.aborted ? `did not answer within ${HANDSHAKE_TIMEOUT_MS / 1000} s` : 'could not be reached';
    } finally {
      clearTimeout(timer);
      this.handshakes.delete(controller);
    }
    if (outcome !== 'ok')
      throw new ApiError(400, 'validation_failed', `${field}: the validation request ${outcome}; the subscription was not created`);
  }

  /** `POST /api/v1/subscriptions`: validates, runs the handshake(s), then creates. */
  async create(body: unknown): Promise<WireSubscription> {
    const input = parseBody(CreateBody, body);
    this.sweep(this.clock());
    if (this.live.size >= MAX_SUBSCRIPTIONS)
      throw new ApiError(400, 'too_many_subscriptions', `the tenant already has ${MAX_SUBSCRIPTIONS} subscriptions; delete one first`);
    this.expiry(input.expiresAt, this.clock());
    await this.handshake('notificationUrl', input.notificationUrl);
    if (input.lifecycleNotificationUrl !== undefined && input.lifecycleNotificationUrl !== input.notificationUrl)
      await this.handshake('lifecycleNotificationUrl', input.lifecycleNotificationUrl);
    const now = this.clock();
    const subscription: SimSubscription = {
      id: randomUUID(),
      resource: input.resource,
      notificationUrl: input.notificationUrl,
      lifecycleNotificationUrl: input.lifecycleNotificationUrl ?? null,
      clientState: input.clientState,
      createdAt: now,
      expiresAt: this.expiry(input.expiresAt, now),
      reauthorizationRequired: false,
      deliveries: 0,
    };
    this.live.set(subscription.id, subscription);
    return wire(subscription);
  }

  list(): WireSubscription[] {
    this.sweep(this.clock());
    return [...this.live.values()].map(wire);
  }

  read(id: string): WireSubscription {
    return wire(this.get(id, this.clock()));
  }

  /** `PATCH /api/v1/subscriptions/:id`: a new expiry (capped), which also ends a reauthorization request. */
  renew(id: string, body: unknown): WireSubscription {
    const { expiresAt } = parseBody(RenewBody, body);
    const now = this.clock();
    const subscription = this.get(id, now);
    subscription.expiresAt = this.expiry(expiresAt, now);
    subscription.reauthorizationRequired = false;
    return wire(subscription);
  }

  delete(id: string): void {
    this.get(id, this.clock());
    this.live.delete(id);
  }

  /** Sends a change notice to every live, authorized subscription on its resource. */
  notify(notice: Notice): void {
    const now = this.clock();
    this.sweep(now);
    for (const s of this.live.values()) {
      if (s.resource !== RESOURCE_OF[notice.kind] || s.reauthorizationRequired) continue;
      s.deliveries++;
      this.send(s.notificationUrl, { subscriptionId: s.id, clientState: s.clientState, notices: [notice] }, now);
    }
  }

  /**
   * Sends a lifecycle notification to the subscription's lifecycle URL (its notification URL when it
   * has none): `reauthorizationRequired` pauses its deliveries until it is renewed,
   * `subscriptionRemoved` deletes it, `missed` says notifications were lost.
   */
  lifecycle(id: string, body: unknown): SubscriptionTruth {
    const { event } = parseBody(LifecycleBody, body);
    const now = this.clock();
    const s = this.get(id, now);
    if (event === 'reauthorizationRequired') s.reauthorizationRequired = true;
    if (event === 'subscriptionRemoved') this.live.delete(s.id);
    this.send(
      s.lifecycleNotificationUrl ?? s.notificationUrl,
      { subscriptionId: s.id, clientState: s.clientState, lifecycleEvent: event, expiresAt: new Date(s.expiresAt).toISOString() },
      now,
    );
    return this.truthOf(s);
  }

  private send(url: string, fields: Record<string, unknown>, now: number): void {
    const rawBody = JSON.stringify({ tenantId: this.tenantId, deliveryId: randomUUID(), ...fields });
    this.courier.post(url, { [TIMESTAMP_HEADER]: String(Math.floor(now / 1000)) }, rawBody);
  }

  private truthOf(s: SimSubscription): SubscriptionTruth {
    return { ...wire(s), clientState: s.clientState, deliveries: s.deliveries };
  }

  /** The live subscriptions with their secrets and delivery counts (the admin API's ground truth). */
  truth(): SubscriptionTruth[] {
    this.sweep(this.clock());
    return [...this.live.values()].map((s) => this.truthOf(s));
  }

  /** Abandons handshakes in flight. */
  close(): void {
    for (const controller of this.handshakes) controller.abort();
    this.handshakes.clear();
  }
}
