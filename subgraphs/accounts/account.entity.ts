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

  @Field(() => ID, { description: "The account's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field({ description: "The provider's id of the user, unique within the instance." })
  @Property({ type: 'text' })
  externalId!: string;

  @Field(() => String, {
    nullable: true,
    description: "The user's email address (or sign-in name) at the provider; null when it has none.",
  })
  @Property({ type: 'text', nullable: true })
  email: string | null = null;

  @Field({ description: 'The name the provider shows for the user.' })
  @Property({ type: 'text' })
  displayName!: string;

  @Field(() => AccountStatus, { description: 'Whether the account can sign in, as the last scan or governance action left it.' })
  @Property({ type: 'text' })
  status: AccountStatus = AccountStatus.ACTIVE;

  @Field({ description: 'Whether the account holds an administrator role at the provider.' })
  @Property({ type: 'boolean' })
  isAdmin: boolean = false;

  @Field(() => [String], {
    description:
      'Security-relevant roles and flags from the provider, by its names (e.g. "Global Administrator", "guest"); empty for most users.',
  })
  @Property({ type: 'text[]' })
  privileges: string[] = [];

  @Field({ description: 'When Tenantwatch last refreshed it: the last scan that saw it, or a governance action.' })
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
@ObjectType({ description: 'A group of accounts inside one app instance, as the provider lists it.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'group' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['name', 'id'] })
export class Group {
  [OptionalProps]?: 'id' | 'updatedAt' | 'deletedAt' | 'scanPass';

  @Field(() => ID, { description: "The group's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field({ description: "The provider's id of the group, unique within the instance." })
  @Property({ type: 'text' })
  externalId!: string;

  @Field({ description: 'The name the provider shows for the group.' })
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
