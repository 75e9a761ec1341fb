import {
  PermanentError,
  ProviderError,
  type ChangeSubscriptions,
  type ProviderHttp,
  type SubscriptionSync,
  type SubscriptionTarget,
} from '../contract.js';
import { parseAnswer } from './mapping.js';
import { subscriptionClientState } from './webhook-verify.js';
import { WireSubscription, wireList } from './wire.js';

/** What the simulated connector subscribes to: file notices (the receiver rescans the files they name). */
const RESOURCE = 'files';

/** Asked for at every create and renewal; the simulator caps it at its tenant's maxSubscriptionLifetimeSeconds. */
const ASKED_LIFETIME_MS = 24 * 3_600_000;

/**
 * The simulator's `/api/v1/subscriptions` (its README, "Change subscriptions"), kept as Graph's are:
 * the provider's list is the state; one `files` subscription to the instance's address, with
 * lifecycle notifications to the same address and a clientState derived from the webhookSecret;
 * renewed once half its life is gone (the simulator grants at most an hour by default) or when the
 * provider asked; the instance's others (another address, a duplicate, a lapsed one) deleted.
 */
export function simulatedSubscriptions(http: ProviderHttp, webhookSecret: string | undefined): ChangeSubscriptions {
  const path = (id: string) => `/api/v1/subscriptions/${encodeURIComponent(id)}`;
  const remove = async (id: string) => {
    try {
      await http.request({ method: 'DELETE', path: path(id) });
    } catch (error) {
      // Expired or removed already: what deleting it was for.
      if (!(error instanceof ProviderError && error.status === 404)) throw error;
    }
  };
  return {
    async sync(target: SubscriptionTarget, now: Date = new Date()): Promise<SubscriptionSync> {
      const listed = parseAnswer(
        wireList(WireSubscription),
        (await http.request({ method: 'GET', path: '/api/v1/subscriptions' })).body,
        'GET /api/v1/subscriptions',
      );
      const mine = listed.items
        .filter((s) => target.owns(s.notificationUrl))
        .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt));
      const wanted = target.url !== null && target.capabilities.includes('DATA_SCAN');
      if (wanted && !webhookSecret)
        throw new PermanentError(
          'Change subscriptions need the instance’s webhookSecret (their clientState is derived from it); the change feed is polled until one is set',
        );
      let kept: { expiresAt: number; life: number } | null = null;
      let renewed = 0;
      let deleted = 0;
      for (const sub of mine) {
        const expires = Date.parse(sub.expiresAt);
        const life = Math.max(1, expires - Date.parse(sub.createdAt));
        if (!wanted || kept || sub.notificationUrl !== target.url || sub.resource !== RESOURCE || expires <= now.getTime()) {
          await remove(sub.id);
          deleted++;
          continue;
        }
        const asked = target.renew === 'all' || (target.renew?.has(sub.id) ?? false);
        if (asked || sub.reauthorizationRequired || expires - now.getTime() < life / 2) {
          try {
            const answer = await http.request({
              method: 'PATCH',
              path: path(sub.id),
              body: { expiresAt: new Date(now.getTime() + ASKED_LIFETIME_MS).toISOString() },
            });
            const renewal = parseAnswer(WireSubscription, answer.body, 'PATCH /api/v1/subscriptions/:id');
            kept = { expiresAt: Date.parse(renewal.expiresAt), life: Date.parse(renewal.expiresAt) - now.getTime() };
            renewed++;
          } catch (error) {
            // Gone between the list and the renewal: it is made again below.
            if (!(error instanceof ProviderError && error.status === 404)) throw error;
          }
          continue;
        }
        kept = { expiresAt: expires, life };
      }
      let created = 0;
      if (wanted && !kept) {
        const answer = await http.request({
          method: 'POST',
          path: '/api/v1/subscriptions',
          body: {
            resource: RESOURCE,
            notificationUrl: target.url,
            lifecycleNotificationUrl: target.url,
            clientState: subscriptionClientState(webhookSecret!),
            expiresAt: new Date(now.getTime() + ASKED_LIFETIME_MS).toISOString(),
          },
        });
        const made = parseAnswer(WireSubscription, answer.body, 'POST /api/v1/subscriptions');
        kept = { expiresAt: Date.parse(made.expiresAt), life: Date.parse(made.expiresAt) - Date.parse(made.createdAt) };
        created++;
      }
      return {
        active: kept ? 1 : 0,
        created,
        renewed,
        deleted,
        renewAt: kept ? new Date(Math.max(now.getTime(), kept.expiresAt - kept.life / 2)) : null,
      };
    },
  };
}
