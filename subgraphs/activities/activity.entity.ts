import { ACTIVITY_SEARCH_TEXT } from './activity-search.js';
import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { GraphQLJSON } from 'graphql-scalars';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { ActivityCategory } from '../../platform/vocabulary/activity-category.js';

/** One audit event of one app instance, deduplicated on the provider's event id. */
@ObjectType({ description: 'One audit event of one app instance.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'activity' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['occurredAt', 'id'] })
@Index({ properties: ['actorId', 'occurredAt', 'id'] })
@Index({ properties: ['instanceId', 'occurredAt', 'id'] })
@Index({
  name: 'activity_search_index',
  expression: `create index "activity_search_index" on "activities"."activity" using gin ((${ACTIVITY_SEARCH_TEXT}) gin_trgm_ops)`,
})
@Index({
  name: 'activity_ip_index',
  expression: `create index "activity_ip_index" on "activities"."activity" using gist (("activities"."inet_or_null"("ip_address")) inet_ops)`,
})
@Index({
  name: 'activity_unlinked_actor_index',
  expression:
    'create index "activity_unlinked_actor_index" on "activities"."activity" ("instance_id", "actor_external_id") where "actor_id" is null',
})
@Index({
  name: 'activity_actor_country_index',
  expression:
    'create index "activity_actor_country_index" on "activities"."activity" ("actor_id", "country", "occurred_at", "id") where "succeeded"',
})
@Index({
  name: 'activity_unlinked_file_index',
  expression:
    'create index "activity_unlinked_file_index" on "activities"."activity" ("instance_id", "file_external_id") where "file_id" is null',
})
export class Activity {
  [OptionalProps]?:
    | 'id'
    | 'actorId'
    | 'ingestedAt'
    | 'ipAddress'
    | 'country'
    | 'userAgent'
    | 'succeeded'
    | 'targetType'
    | 'targetId'
    | 'fileId'
    | 'raw'
    | 'actorExternalId'
    | 'fileExternalId';

  @Field(() => ID, { description: "The activity's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field({ description: "The provider's id of the event, unique within the instance." })
  @Property({ type: 'text' })
  externalId!: string;

  @Field(() => ActivityCategory, { description: "Whose action it was: a user's, an administrator's, or a sign-in." })
  @Property({ type: 'text' })
  category!: ActivityCategory;

  @Field({
    description: `What happened, in Tenantwatch's words across providers, e.g. "user.login", "file.download", "admin.role.assign".`,
  })
  @Property({ type: 'text' })
  action!: string;

  @Property({ type: 'uuid', nullable: true })
  actorId: string | null = null;

  /** The provider's id of the actor, kept to link events that arrive before the actor's account. */
  @Property({ type: 'text', nullable: true })
  actorExternalId: string | null = null;

  @Field({ description: 'When it happened at the provider.' })
  @Property({ type: 'timestamptz' })
  occurredAt!: Date;

  @Field({ description: 'When Tenantwatch stored it (later than occurredAt: the provider reports events with a lag).' })
  @Property({ type: 'timestamptz' })
  ingestedAt: Date = new Date();

  @Field(() => String, {
    nullable: true,
    description: 'The IPv4 or IPv6 address it came from, as the provider reported it; null when not reported.',
  })
  @Property({ type: 'text', nullable: true })
  ipAddress: string | null = null;

  @Field(() => String, {
    nullable: true,
    description: 'The ISO 3166 alpha-2 code of the country it came from, e.g. "DE"; null when the provider does not tell.',
  })
  @Property({ type: 'text', nullable: true })
  country: string | null = null;

  @Field(() => String, { nullable: true, description: "The client's user agent string; null when not reported." })
  @Property({ type: 'text', nullable: true })
  userAgent: string | null = null;

  @Field({ description: 'Whether the action succeeded (false for a failed sign-in, for instance).' })
  @Property({ type: 'boolean' })
  succeeded: boolean = true;

  @Field(() => String, {
    nullable: true,
    description: `The kind of object acted on, by the provider's word, e.g. "file", "user" or "app"; null when there is none.`,
  })
  @Property({ type: 'text', nullable: true })
  targetType: string | null = null;

  @Field(() => String, { nullable: true, description: "The provider's id of the object acted on; null when there is none." })
  @Property({ type: 'text', nullable: true })
  targetId: string | null = null;

  @Property({ type: 'uuid', nullable: true })
  fileId: string | null = null;

  @Property({ type: 'text', nullable: true })
  fileExternalId: string | null = null;

  @Field(() => GraphQLJSON, {
    nullable: true,
    description: "The provider's own record of the event, as received, for investigation; null when none was kept.",
  })
  @Property({ type: 'jsonb', nullable: true })
  raw: unknown = null;
}
