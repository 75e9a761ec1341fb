import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, ID, ObjectType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { AccountStatus } from '../../platform/vocabulary/account-status.js';

/** A user account inside one app instance. */
@ObjectType({ description: 'A user account inside one app instance.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'account' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['displayName', 'id'] })
export class Account {
  [OptionalProps]?: 'id' | 'email' | 'status' | 'isAdmin' | 'privileges' | 'updatedAt' | 'deletedAt' | 'scanPass';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field()
  @Property({ type: 'text' })
  externalId!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Field()
  @Property({ type: 'text' })
  displayName!: string;

  @Field(() => AccountStatus)
  @Property({ type: 'text' })
  status: AccountStatus = AccountStatus.ACTIVE;

  @Field()
  @Property({ type: 'boolean' })
  isAdmin: boolean = false;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  privileges: string[] = [];

  @Field()
  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  /** Set when the provider no longer lists the account. */
  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  /** The full scan pass that last saw the account (those a finished pass missed are deleted). */
  @Property({ type: 'uuid', nullable: true })
  scanPass: string | null = null;
}

/** A group of accounts inside one app instance. */
@ObjectType()
@Directive('@key(fields: "id")')
@Entity({ tableName: 'group' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['name', 'id'] })
export class Group {
  [OptionalProps]?: 'id' | 'updatedAt' | 'deletedAt' | 'scanPass';

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
  name!: string;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  scanPass: string | null = null;
}

/** Membership of one account in one group. */
@Entity({ tableName: 'group_membership' })
@Index({ properties: ['accountId'] })
export class GroupMembership {
  @PrimaryKey({ type: 'uuid' })
  groupId!: string;

  @PrimaryKey({ type: 'uuid' })
  accountId!: string;

  @Property({ type: 'uuid' })
  instanceId!: string;
}
