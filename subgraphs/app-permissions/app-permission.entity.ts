import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { PermissionLevel } from '../../platform/vocabulary/permission-level.js';

/** One OAuth grant of a third-party app by one account. */
@ObjectType({ description: 'One OAuth grant of a third-party app by one account.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'app_permission' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['appName', 'id'] })
@Index({ properties: ['grantedById', 'appName', 'id'] })
export class AppPermission {
  [OptionalProps]?:
    | 'id'
    | 'publisher'
    | 'scopes'
    | 'permissionLevel'
    | 'grantedById'
    | 'grantedAt'
    | 'lastUsedAt'
    | 'revoked'
    | 'updatedAt'
    | 'deletedAt'
    | 'scanPass';

  @Field(() => ID, { description: "The grant's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field({ description: "The provider's id of the grant, unique within the instance." })
  @Property({ type: 'text' })
  externalId!: string;

  @Field({ description: 'The name of the app, as the provider shows it.' })
  @Property({ type: 'text' })
  appName!: string;

  @Field({ description: "The app's OAuth client id at the provider (what revokeApp and APP_PERMISSION policies name)." })
  @Property({ type: 'text' })
  clientId!: string;

  @Field(() => String, { nullable: true, description: 'Who publishes the app; null when the provider does not tell.' })
  @Property({ type: 'text', nullable: true })
  publisher: string | null = null;

  @Field(() => [String], { description: `The OAuth scopes granted, by the provider's names, e.g. "Mail.Read".` })
  @Property({ type: 'text[]' })
  scopes: string[] = [];

  @Field(() => PermissionLevel, { description: 'How much the scopes allow, as Tenantwatch classifies them.' })
  @Property({ type: 'text' })
  permissionLevel: PermissionLevel = PermissionLevel.LOW;

  @Property({ type: 'uuid', nullable: true })
  grantedById: string | null = null;

  @Field(() => Date, { nullable: true, description: 'When the account granted it; null when the provider does not tell.' })
  @Property({ type: 'timestamptz', nullable: true })
  grantedAt: Date | null = null;

  @Field(() => Date, { nullable: true, description: 'When the app last used it; null when the provider does not tell.' })
  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Field({ description: 'Whether it was revoked (by Tenantwatch or at the provider); a revoked grant stays listed.' })
  @Property({ type: 'boolean' })
  revoked: boolean = false;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  /** Set when the provider no longer lists the grant. */
  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  scanPass: string | null = null;
}
