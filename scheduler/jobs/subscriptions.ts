import { ProviderError } from '../../connectors/contract.js';
import { logger } from '../../platform/logger.js';
import { ConnectionStatus } from '../../platform/vocabulary/instance.js';
import { ChangeNotificationMode } from '../../subgraphs/accounts/public.js';
import type { SchedulerServices } from '../services.js';

/** Agenda job: keep an instance's change subscriptions at the provider. */
export const SUBSCRIPTIONS_JOB = 'instance.subscriptions';

export interface SubscriptionsJobData {
  readonly instanceId: string;
  /** Subscriptions to renew now by the provider's id, or `all` (a lifecycle notice named none). */
  readonly renew?: readonly string[] | 'all';
  /** The instance's one repeating check (rescheduled by each run), as opposed to a triggered run. */
  readonly periodic?: boolean;
}

/** How often a connected instance's subscriptions are checked at the latest, renewal due or not (one list request). */
export const SUBSCRIPTIONS_CHECK_MS = 6 * 3_600_000;

/** The address providers notify for an instance: `<PUBLIC_WEBHOOK_URL>/webhooks/<instanceId>`. */
export const notificationUrl = (publicUrl: string, instanceId: string) => `${publicUrl}/webhooks/${instanceId}`;

/**
 * `instance.subscriptions`: brings the instance's change subscriptions at the provider in line with
 * what it needs now. A CONNECTED (or DEGRADED) instance with PUBLIC_WEBHOOK_URL set needs them (made, renewed
 * before they expire, moved when the address changes); a DISCONNECTED, ERROR or DELETED one, or one without
 * an address, needs none (its own are deleted). Any address ending in `/webhooks/<instanceId>` is the
 * instance's, so subscriptions to an address it no longer has are found and deleted too. Answers
 * when the next check is due (null: none is needed until something changes).
 */
export async function syncSubscriptions(
  services: Pick<SchedulerServices, 'config' | 'connector' | 'instances'>,
  instanceId: string,
  renew: readonly string[] | 'all' = [],
): Promise<Date | null> {
  const instances = services.instances();
  const [instance] = await instances.byIds([instanceId]);
  if (!instance) return null;
  const connected = instance.status === ConnectionStatus.CONNECTED || instance.status === ConnectionStatus.DEGRADED;
  const ended =
    instance.status === ConnectionStatus.DISCONNECTED ||
    instance.status === ConnectionStatus.ERROR ||
    instance.status === ConnectionStatus.DELETED;
  // Between connecting and CONNECTED the connect flow decides; the sync comes when it is done.
  if (!connected && !ended) return null;
  // Nothing to remove: an ended instance without subscriptions is left alone (its credentials may be refused).
  if (ended && instance.notificationSubscriptions === 0) return null;
  const publicUrl = services.config.PUBLIC_WEBHOOK_URL;
  const url = connected && publicUrl ? notificationUrl(publicUrl, instanceId) : null;
  try {
    const connector = await services.connector(instanceId, 'change');
    if (!connector.subscriptions) {
      await instances.recordNotifications(instanceId, {
        mode: ChangeNotificationMode.POLLING,
        subscriptions: 0,
        renewAt: null,
        error: null,
      });
      return null;
    }
    const sync = await connector.subscriptions.sync({
      url,
      owns: (address) => address.endsWith(`/webhooks/${instanceId}`),
      capabilities: instance.capabilities,
      renew: renew === 'all' ? 'all' : new Set(renew),
    });
    await instances.recordNotifications(instanceId, {
      mode: sync.active > 0 ? ChangeNotificationMode.PUSH : ChangeNotificationMode.POLLING,
      subscriptions: sync.active,
      renewAt: sync.renewAt,
      error: null,
    });
    if (sync.created + sync.renewed + sync.deleted > 0) logger.info({ instanceId, url, ...sync }, 'change subscriptions synchronised');
    if (!url) return null;
    const check = Date.now() + SUBSCRIPTIONS_CHECK_MS;
    return new Date(Math.min(sync.renewAt?.getTime() ?? check, check));
  } catch (error) {
    // Shown to viewers: a provider's answer in Tenantwatch's words, never our internals (logged).
    const message =
      error instanceof ProviderError
        ? `Change subscriptions could not be kept: ${error.message}`
        : 'Change subscriptions could not be kept: an internal error of Tenantwatch (logged with the instance id)';
    logger.warn({ err: error, instanceId }, 'change subscriptions not synchronised');
    // A retry may help a transient failure; a refused permission or a missing clientState needs a change of config.
    const retry = !(error instanceof ProviderError) || error.transient;
    if (ended && !retry) {
      // Nothing more can be done for an instance that ended: its subscriptions lapse at the provider on their own.
      await instances.recordNotifications(instanceId, {
        mode: ChangeNotificationMode.POLLING,
        subscriptions: 0,
        renewAt: null,
        error: `${message}; they lapse at the provider when they expire`,
      });
      return null;
    }
    await instances.recordNotificationsError(instanceId, message);
    if (retry) throw error;
    return url ? new Date(Date.now() + SUBSCRIPTIONS_CHECK_MS) : null;
  }
}
