import { Entity, Index, OptionalProps, PrimaryKey, Property, Unique } from '@mikro-orm/postgresql';
import { Directive, Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';
import { SharingLevel } from '../../platform/vocabulary/sharing.js';

@ObjectType({ description: 'How many matches of one kind of sensitive information a file holds.' })
export class SensitiveMatch {
  @Field(() => SensitiveDataType, { description: 'Which kind of sensitive information.' })
  type!: SensitiveDataType;

  @Field(() => Int, { description: 'How many matches of that kind the file held at its last data scan (always at least 1).' })
  count!: number;
}

/** Which kind of custom content rule of a FILE policy matched. */
export const ContentRuleKind = { PATTERN: 'PATTERN', KEYWORDS: 'KEYWORDS' } as const;
export type ContentRuleKind = (typeof ContentRuleKind)[keyof typeof ContentRuleKind];
registerEnumType(ContentRuleKind, {
  name: 'ContentRuleKind',
  description: "Which kind of a FILE policy's custom content rule matched.",
  valuesConfig: {
    PATTERN: { description: 'A named regular expression (`Policy.contentPatterns`).' },
    KEYWORDS: { description: 'A named keyword list (`Policy.keywordLists`).' },
  },
});

@ObjectType({ description: "How often one custom content rule of a FILE policy matched a file's text; never the matched text." })
export class ContentRuleMatch {
  @Field(() => ID, { description: 'The policy whose rule it is.' })
  policyId!: string;

  @Field({ description: "The rule's name, as the policy names it." })
  rule!: string;

  @Field(() => ContentRuleKind, { description: 'A pattern or a keyword list.' })
  kind!: ContentRuleKind;

  @Field(() => Int, { description: 'How many matches the file held at its last data scan (always at least 1).' })
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
    | 'contentRuleMatches'
    | 'contentRulesHash'
    | 'updatedAt'
    | 'deletedAt'
    | 'scanPass'
    | 'contentVersion'
    | 'scannedVersion'
    | 'scanSkippedReason';

  @Field(() => ID, { description: "The file's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Property({ type: 'uuid' })
  instanceId!: string;

  @Field({ description: "The provider's id of the file, unique within the instance." })
  @Property({ type: 'text' })
  externalId!: string;

  @Field({ description: 'The file name, e.g. "payroll.xlsx".' })
  @Property({ type: 'text' })
  name!: string;

  @Field({ description: 'Where it is in its drive, folders and name, e.g. "/Finance/payroll.xlsx".' })
  @Property({ type: 'text' })
  path!: string;

  @Field(() => String, {
    nullable: true,
    description: 'Its media type, e.g. "application/pdf"; null when the provider does not tell (or for a folder).',
  })
  @Property({ type: 'text', nullable: true })
  mimeType: string | null = null;

  @Field(() => Float, { description: 'Its size in bytes (a Float, as sizes may pass 2^31).' })
  @Property({ type: 'double precision' })
  sizeBytes!: number;

  @Property({ type: 'uuid', nullable: true })
  ownerId: string | null = null;

  @Field(() => SharingLevel, { description: 'Who can reach it, as the last scan found.' })
  @Property({ type: 'text' })
  sharing: SharingLevel = SharingLevel.PRIVATE;

  @Field(() => [String], { description: 'The people it is shared with by name, as the provider names them (usually email addresses).' })
  @Property({ type: 'text[]' })
  collaborators: string[] = [];

  @Field({ description: 'Whether it is in the trash.' })
  @Property({ type: 'boolean' })
  trashed: boolean = false;

  @Field({ description: "Whether it is in the provider's admin quarantine (quarantineFile)." })
  @Property({ type: 'boolean' })
  quarantined: boolean = false;

  @Field({ description: 'When its content or metadata last changed at the provider.' })
  @Property({ type: 'timestamptz' })
  modifiedAt!: Date;

  @Field(() => Date, { nullable: true, description: 'When a data scan last read its content; null when none has.' })
  @Property({ type: 'timestamptz', nullable: true })
  lastScannedAt: Date | null = null;

  @Field(() => [SensitiveMatch], {
    description: 'The sensitive data its last data scan found, one entry per kind found; empty when none (or not scanned yet).',
  })
  @Property({ type: 'jsonb' })
  sensitiveMatches: SensitiveMatch[] = [];

  @Field(() => [ContentRuleMatch], {
    description:
      'What the custom content rules (patterns, keyword lists) of enabled FILE policies found at its last data scan, one entry per rule that matched; empty when none (or not scanned yet). Changed rules are applied at the next data scan.',
  })
  @Property({ type: 'jsonb', default: '[]' })
  contentRuleMatches: ContentRuleMatch[] = [];

  /** The digest of the content rules its last data scan applied: the data scan reads the file again when they change. */
  @Property({ type: 'text', nullable: true })
  contentRulesHash: string | null = null;

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
