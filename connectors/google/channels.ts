import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  PermanentError,
  WebhookRejectedError,
  type SubscriptionSync,
  type SubscriptionTarget,
  type VerifiedWebhook,
  type WebhookDelivery,
  type WebhookNotice,
} from '../contract.js';
import type { GoogleConfig } from './config.js';
import type { Feed, GoogleDrive } from './drive.js';
import { isNotFound, type GoogleApis } from './google-http.js';
import { CHANNELS_FILE } from './mapping.js';

/** A changes channel lives at most a week (https://developers.google.com/drive/api/guides/push#renew-notification-channels): an hour less. */
const CHANNEL_LIFETIME_MS = 7 * 24 * 3_600_000 - 3_600_000;
/** A channel is replaced when it would expire within this margin. */
const RENEWAL_MARGIN_MS = 24 * 3_600_000;

/** A channel as the connector records it. */
interface ChannelRecord {
  readonly feed: string;
  readonly id: string;
  readonly resourceId: string;
  readonly expiration: number;
  readonly address: string;
}

/** The `token` every channel carries, derived from the instance's webhook secret (or its private key): the secret itself never travels. */
export function channelToken(config: GoogleConfig): string {
  const secret = config.webhookSecret ?? config.serviceAccountKey.private_key;
  return createHmac('sha256', secret).update('tenantwatch drive channels').digest('base64url');
}

/**
 * Drive push notifications (https://developers.google.com/drive/api/guides/push): one `changes.watch`
 * channel per feed (each user's My Drive, watched as that user, and each shared drive) to the
 * instance's address, each with the instance's channel token, made when missing, replaced a day before
 * it expires, stopped (channels.stop) when no longer wanted. Drive has no list of channels: the ones
 * made are recorded in {@link CHANNELS_FILE} in the admin subject's My Drive, which the sync reads and writes.
 */
export class DriveChannels {
  constructor(
    private readonly apis: GoogleApis,
    private readonly config: GoogleConfig,
    private readonly drive: GoogleDrive,
  ) {}

  private async readRecords(): Promise<{ fileId: string | null; records: ChannelRecord[] }> {
    const admin = this.apis.drive();
    const listed = await this.apis.call(
      admin.files.list({ q: `name = '${CHANNELS_FILE}' and 'root' in parents and trashed = false`, fields: 'files(id)', pageSize: 10 }),
    );
    const fileId = listed.files?.[0]?.id ?? null;
    if (!fileId) return { fileId, records: [] };
    const data = await this.apis.call(
      admin.files.get({ fileId, alt: 'media' }, { responseType: 'arraybuffer' }) as Promise<{ data: unknown }>,
    );
    try {
      const parsed = JSON.parse(Buffer.from(data as ArrayBuffer).toString('utf8')) as { channels?: ChannelRecord[] };
      return { fileId, records: Array.isArray(parsed.channels) ? parsed.channels : [] };
    } catch {
      return { fileId, records: [] };
    }
  }

  private async writeRecords(fileId: string | null, records: readonly ChannelRecord[]): Promise<void> {
    const admin = this.apis.drive();
    const media = { mimeType: 'application/json', body: Readable.from([Buffer.from(JSON.stringify({ channels: records }))]) };
    if (fileId) await this.apis.call(admin.files.update({ fileId, media, fields: 'id' }));
    else await this.apis.call(admin.files.create({ requestBody: { name: CHANNELS_FILE, parents: ['root'] }, media, fields: 'id' }));
  }

  private async stop(feed: Feed | undefined, record: ChannelRecord): Promise<void> {
    try {
      await this.apis.call(
        this.apis.drive(feed?.subject ?? undefined).channels.stop({ requestBody: { id: record.id, resourceId: record.resourceId } }),
      );
    } catch (error) {
      // Already expired or stopped.
      if (!isNotFound(error)) throw error;
    }
  }

  private async watch(feed: Feed, url: string, now: Date): Promise<ChannelRecord> {
    const client = this.apis.drive(feed.subject ?? undefined);
    const start = await this.apis.call(
      client.changes.getStartPageToken(feed.driveId ? { driveId: feed.driveId, supportsAllDrives: true } : {}),
    );
    const id = `tw-${feed.key.replace(':', '-')}-${randomBytes(6).toString('hex')}`;
    const channel = await this.apis.call(
      client.changes.watch({
        pageToken: start.startPageToken ?? '1',
        ...(feed.driveId ? { driveId: feed.driveId, supportsAllDrives: true, includeItemsFromAllDrives: true } : {}),
        requestBody: {
          id,
          type: 'web_hook',
          address: url,
          token: channelToken(this.config),
          expiration: String(now.getTime() + CHANNEL_LIFETIME_MS),
        },
      }),
    );
    if (!channel.resourceId) throw new PermanentError('Drive opened a channel without a resource id');
    return {
      feed: feed.key,
      id,
      resourceId: channel.resourceId,
      expiration: Number(channel.expiration) || now.getTime() + CHANNEL_LIFETIME_MS,
      address: url,
    };
  }

  async sync(target: SubscriptionTarget, now: Date = new Date()): Promise<SubscriptionSync> {
    const { fileId, records } = await this.readRecords();
    const feeds = new Map((await this.drive.feeds()).map((f) => [f.key as string, f]));
    const wanted = target.url && target.capabilities.includes('DATA_SCAN') ? feeds : new Map<string, Feed>();
    const kept: ChannelRecord[] = [];
    const replace = new Set<string>();
    let deleted = 0;
    for (const record of records) {
      const mine = record.address === target.url || target.owns(record.address);
      if (!mine) {
        kept.push(record);
        continue;
      }
      const asked = target.renew === 'all' || (target.renew?.has(record.id) ?? false);
      const live = record.expiration > now.getTime();
      const keep =
        record.address === target.url && wanted.has(record.feed) && !kept.some((k) => k.feed === record.feed && k.address === target.url);
      if (keep && live && !asked && record.expiration - now.getTime() >= RENEWAL_MARGIN_MS) {
        kept.push(record);
        continue;
      }
      if (live) await this.stop(feeds.get(record.feed), record);
      if (keep) replace.add(record.feed);
      else deleted++;
    }
    let created = 0;
    let renewed = 0;
    for (const [key, feed] of wanted) {
      if (kept.some((k) => k.feed === key && k.address === target.url)) continue;
      kept.push(await this.watch(feed, target.url!, now));
      if (replace.has(key)) renewed++;
      else created++;
    }
    if (created + renewed + deleted > 0 || (fileId === null && kept.length > 0)) await this.writeRecords(fileId, kept);
    const active = kept.filter((k) => k.address === target.url);
    const earliest = Math.min(...active.map((k) => k.expiration));
    return {
      active: active.length,
      created,
      renewed,
      deleted,
      renewAt: active.length > 0 ? new Date(Math.max(now.getTime(), earliest - RENEWAL_MARGIN_MS)) : null,
    };
  }
}

/**
 * A Drive push notification (https://developers.google.com/drive/api/guides/push#understanding-drive-api-notification-events):
 * a POST without a body whose `X-Goog-Channel-Token` must be the instance's channel token (compared in
 * constant time). A `sync` message (the channel was opened) says nothing; any other state says the
 * channel's feed changed: a `files.changed` notice for it (the user, or the shared drive). The delivery
 * id is the channel and its message number, which a replay repeats; it is remembered until the channel expires.
 */
export function verifyDriveNotification(config: GoogleConfig, delivery: WebhookDelivery, now: Date = new Date()): VerifiedWebhook {
  const given = Buffer.from(delivery.headers.get('x-goog-channel-token') ?? '');
  const want = Buffer.from(channelToken(config));
  if (given.length !== want.length || !timingSafeEqual(given, want))
    throw new WebhookRejectedError('the notification carries a wrong channel token');
  const channel = delivery.headers.get('x-goog-channel-id') ?? '';
  const message = delivery.headers.get('x-goog-message-number') ?? '';
  const state = delivery.headers.get('x-goog-resource-state') ?? '';
  if (!channel || !/^\d{1,20}$/.test(message) || !state)
    throw new WebhookRejectedError('the notification lacks its X-Goog-Channel-ID, X-Goog-Message-Number or X-Goog-Resource-State');
  const expires = Date.parse(delivery.headers.get('x-goog-channel-expiration') ?? '');
  const until = Number.isFinite(expires)
    ? Math.min(Math.max(expires, now.getTime() + 60_000), now.getTime() + CHANNEL_LIFETIME_MS + 3_600_000)
    : now.getTime() + CHANNEL_LIFETIME_MS;
  const feed = /^tw-(u|d)-(.+)-[0-9a-f]{12}$/.exec(channel);
  // The feed the channel watches (`u:<user id>`, `d:<drive id>`): only its changes are read now.
  const notices: WebhookNotice[] = state === 'sync' ? [] : [{ kind: 'files.changed', externalId: feed ? `${feed[1]}:${feed[2]}` : '*' }];
  return { deliveryId: `goog:${channel.slice(0, 160)}:${message}`, expiresAt: new Date(until), notices };
}
