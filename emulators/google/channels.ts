import { randomBytes } from 'node:crypto';
import type { EmuChange } from './drive-store.js';

/** A notification channel on the changes resource (https://developers.google.com/drive/api/guides/push). */
export interface Channel {
  readonly id: string;
  readonly resourceId: string;
  readonly resourceUri: string;
  readonly address: string;
  readonly token: string | null;
  /** Epoch ms. */
  expiration: number;
  /** The user whose changes it watches (the token's subject). */
  readonly userId: string | null;
  readonly driveId: string | null;
  readonly includeItemsFromAllDrives: boolean;
  readonly clientId: string;
  messageNumber: number;
}

/** What the control API tells of a channel. */
export interface ChannelInfo {
  readonly id: string;
  readonly resourceId: string;
  readonly address: string;
  readonly token: string | null;
  readonly expiration: string;
  readonly userId: string | null;
  readonly driveId: string | null;
  readonly messagesSent: number;
}

/** Sends one notification: a POST with no body and the X-Goog-* headers; failures are the receiver's problem. */
export type Deliver = (address: string, headers: Record<string, string>) => void;

/**
 * The customer's open channels. Creating one sends a `sync` message; each change the channel's user
 * can see sends a `change` message; expired channels send nothing more and are forgotten.
 */
export class ChannelRegistry {
  private readonly byId = new Map<string, Channel>();

  constructor(
    private readonly deliver: Deliver,
    private readonly clock: () => number,
  ) {}

  has(id: string): boolean {
    return this.byId.has(id);
  }

  open(channel: Omit<Channel, 'resourceId' | 'messageNumber'>): Channel {
    const full: Channel = { ...channel, resourceId: randomBytes(21).toString('base64url'), messageNumber: 0 };
    this.byId.set(full.id, full);
    this.send(full, 'sync');
    return full;
  }

  /** channels.stop: the channel with this id and resource id (answers false when there is none). */
  stop(id: string, resourceId: string): boolean {
    const channel = this.byId.get(id);
    if (!channel || channel.resourceId !== resourceId) return false;
    this.byId.delete(id);
    return true;
  }

  /** Sends a `change` message to every live channel that `sees` the change. */
  notify(change: EmuChange, sees: (channel: Channel, change: EmuChange) => boolean): void {
    const now = this.clock();
    for (const channel of [...this.byId.values()]) {
      if (channel.expiration <= now) {
        this.byId.delete(channel.id);
        continue;
      }
      if (sees(channel, change)) this.send(channel, 'change');
    }
  }

  private send(channel: Channel, state: 'sync' | 'change'): void {
    channel.messageNumber++;
    this.deliver(channel.address, {
      'x-goog-channel-id': channel.id,
      ...(channel.token !== null ? { 'x-goog-channel-token': channel.token } : {}),
      'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
      'x-goog-resource-id': channel.resourceId,
      'x-goog-resource-uri': channel.resourceUri,
      'x-goog-resource-state': state,
      'x-goog-message-number': String(channel.messageNumber),
    });
  }

  list(): ChannelInfo[] {
    const now = this.clock();
    return [...this.byId.values()]
      .filter((c) => c.expiration > now)
      .map((c) => ({
        id: c.id,
        resourceId: c.resourceId,
        address: c.address,
        token: c.token,
        expiration: new Date(c.expiration).toISOString(),
        userId: c.userId,
        driveId: c.driveId,
        messagesSent: c.messageNumber,
      }));
  }

  /** Ends every channel without a word (as lost ones); answers how many. */
  drop(): number {
    const count = this.byId.size;
    this.byId.clear();
    return count;
  }

  /** Makes every channel expire now (they send nothing more); answers how many. */
  expire(): number {
    const now = this.clock();
    let count = 0;
    for (const c of this.byId.values())
      if (c.expiration > now) {
        c.expiration = now;
        count++;
      }
    return count;
  }
}
