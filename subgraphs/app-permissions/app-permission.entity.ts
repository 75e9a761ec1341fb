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

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field()
  @Property({ type: 'text' })
  externalId!: string;

  @Field()
  @Property({ type: 'text' })
  appName!: string;

  @Field()
  @Property({ type: 'text' })
  clientId!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  publisher: string | null = null;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  scopes: string[] = [];

  @Field(() => PermissionLevel)
  @Property({ type: 'text' })
  permissionLevel: PermissionLevel = PermissionLevel.LOW;

  @Property({ type: 'uuid', nullable: true })
  grantedById: string | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  grantedAt: Date | null = null;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastUsedAt: Date | null = null;

  @Field()
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
