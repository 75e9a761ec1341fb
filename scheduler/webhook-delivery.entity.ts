import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/postgresql';

/** A webhook delivery id seen for an instance: a second delivery with it is a replay until `expiresAt`. */
@Entity({ tableName: 'webhook_delivery' })
@Index({ properties: ['expiresAt'] })
export class WebhookDeliveryRow {
  @PrimaryKey({ type: 'uuid' })
  instanceId!: string;

  /** The provider's delivery id, as the connector's `verifyWebhook` answers it. */
  @PrimaryKey({ type: 'varchar', length: 200 })
  deliveryId!: string;

  /** When the delivery's signature stops verifying (with a margin for clock skew): the row may go then. */
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Property({ type: 'timestamptz', defaultRaw: 'clock_timestamp()' })
  receivedAt!: Date;
}
