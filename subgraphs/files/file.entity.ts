import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

@ObjectType({ description: 'How many matches of one kind of sensitive information a file holds.' })
export class SensitiveMatch {
  @Field({ description: 'CREDIT_CARD_NUMBER, US_SSN, IBAN, EMAIL_ADDRESS, AWS_ACCESS_KEY, PRIVATE_KEY, ...' })
  type!: string;

  @Field(() => Int)
  count!: number;
}

/** A file stored in one app instance. */
@ObjectType({ description: 'A file stored in one app instance.' })
@Directive('@key(fields: "id")')
@Entity({ tableName: 'file' })
@Unique({ properties: ['instanceId', 'externalId'] })
@Index({ properties: ['modifiedAt', 'id'] })
@Index({ properties: ['ownerId', 'modifiedAt', 'id'] })
export class File {
  [OptionalProps]?:
    | 'id'
    | 'mimeType'
    | 'ownerId'
    | 'sharing'
    | 'collaborators'
    | 'trashed'
    | 'quarantined'
    | 'lastScannedAt'
    | 'sensitiveMatches'
    | 'updatedAt'
    | 'deletedAt'
    | 'scanPass'
    | 'contentVersion'
    | 'scannedVersion'
    | 'scanSkippedReason';

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

  @Field()
  @Property({ type: 'text' })
  path!: string;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  mimeType: string | null = null;

  @Field(() => Float)
  @Property({ type: 'double precision' })
  sizeBytes!: number;

  @Property({ type: 'uuid', nullable: true })
  ownerId: string | null = null;

  @Field(() => SharingLevel)
  @Property({ type: 'text' })
  sharing: SharingLevel = SharingLevel.PRIVATE;

  @Field(() => [String])
  @Property({ type: 'text[]' })
  collaborators: string[] = [];

  @Field()
  @Property({ type: 'boolean' })
  trashed: boolean = false;

  @Field()
  @Property({ type: 'boolean' })
  quarantined: boolean = false;

  @Field()
  @Property({ type: 'timestamptz' })
  modifiedAt!: Date;

  @Field(() => Date, { nullable: true })
  @Property({ type: 'timestamptz', nullable: true })
  lastScannedAt: Date | null = null;

  @Field(() => [SensitiveMatch])
  @Property({ type: 'jsonb' })
  sensitiveMatches: SensitiveMatch[] = [];

  /** Why the last data scan did not read the content (over a limit, unreadable); null when it was read. */
  @Field(() => String, {
    nullable: true,
    description:
      'Why the last data scan did not read the content, e.g. "archive expands beyond 100 MiB" or "extraction took longer than 10 s" (sensitiveMatches is then empty); null when it was read.',
  })
  @Property({ type: 'text', nullable: true })
  scanSkippedReason: string | null = null;

  @Property({ type: 'timestamptz' })
  updatedAt: Date = new Date();

  /** Set when the provider no longer lists the file. */
  @Property({ type: 'timestamptz', nullable: true })
  deletedAt: Date | null = null;

  @Property({ type: 'uuid', nullable: true })
  scanPass: string | null = null;

  /** The provider's content version (etag, revision); the data scan compares it with scannedVersion. */
  @Property({ type: 'text', nullable: true })
  contentVersion: string | null = null;

  /** The content version the last data scan read. */
  @Property({ type: 'text', nullable: true })
  scannedVersion: string | null = null;
}
