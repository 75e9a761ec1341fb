import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import { ContentPattern, KeywordList } from './content-rules.js';

export enum PolicyKind {
  ACTIVITY = 'ACTIVITY',
  FILE = 'FILE',
  APP_PERMISSION = 'APP_PERMISSION',
}
registerEnumType(PolicyKind, {
  name: 'PolicyKind',
  description: "What a policy watches, which decides its condition's fields.",
  valuesConfig: {
    ACTIVITY: { description: 'Audit events: actions, sign-ins, countries, IP ranges, counts within a window.' },
    FILE: { description: 'Files: sharing, sensitive data found, trash, owner, name.' },
    APP_PERMISSION: { description: 'OAuth grants: permission level, scopes, client id, app name, how many accounts granted the app.' },
  },
});

export enum Severity {
  INFORMATIONAL = 'INFORMATIONAL',
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
}
registerEnumType(Severity, {
  name: 'Severity',
  description: 'How serious a policy deems its detections, from INFORMATIONAL (lowest) to HIGH.',
  valuesConfig: {
    INFORMATIONAL: { description: 'Worth knowing; nothing to do.' },
    LOW: { description: 'Worth a look when time allows.' },
    MEDIUM: { description: 'To look into soon.' },
    HIGH: { description: 'To look into now: a likely compromise or exposure.' },
  },
});

/** Severities from lowest to highest. */
export const SEVERITY_ORDER: readonly Severity[] = [Severity.INFORMATIONAL, Severity.LOW, Severity.MEDIUM, Severity.HIGH];

/** A rule that raises detections when activities, files or app permissions match its condition. */
@ObjectType({ description: 'A rule that raises detections when its condition matches.' })
@Entity({ tableName: 'policy' })
export class Policy {
  [OptionalProps]?:
    | 'id'
    | 'enabled'
    | 'description'
    | 'autoGovernance'
    | 'instanceIds'
    | 'providers'
    | 'contentPatterns'
    | 'keywordLists'
    | 'builtIn'
    | 'createdAt'
    | 'updatedAt';

  @Field(() => ID, { description: "The policy's Tenantwatch id (a UUID)." })
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field({ description: 'Its name, also the title of the detections it raises.' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => PolicyKind, { description: 'What it watches: activities, files or app permissions.' })
  @Property({ type: 'text' })
  kind!: PolicyKind;

  @Field(() => Severity, { description: 'The severity of the detections it raises.' })
  @Property({ type: 'text' })
  severity!: Severity;

  @Field({ description: 'Whether it raises detections; a disabled policy matches nothing.' })
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Field(() => String, { nullable: true, description: 'What it is for, as an administrator wrote it; null when none was written.' })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Field(() => GraphQLJSON, {
    description:
      'What must match: a JSON object whose fields depend on the kind; every field given must hold, a list means any of its values. E.g. { "action": "file.download", "threshold": { "count": 30, "windowMinutes": 10 } }.',
  })
  @Property({ type: 'jsonb' })
  condition!: Record<string, unknown>;

  @Field(() => [GovernanceActionType], {
    description:
      'Governance actions requested automatically (requestedBy "policy:<id>") on the subject of each detection it raises, and for app policies on each newly matched grant; empty: none.',
  })
  @Property({ type: 'text[]' })
  autoGovernance: GovernanceActionType[] = [];

  @Field(() => [ID], {
    description: 'The instances the policy applies to, beside every instance of `providers`. Both empty: every instance.',
  })
  @Property({ type: 'text[]', default: '{}' })
  instanceIds: string[] = [];

  @Field(() => [String], {
    description: 'The connectors (`connectApp` providers, e.g. "m365") whose every instance the policy applies to, beside `instanceIds`.',
  })
  @Property({ type: 'text[]', default: '{}' })
  providers: string[] = [];

  @Field(() => [ContentPattern], {
    description: "FILE policies: named regular expressions counted in files' text at each data scan; empty: none.",
  })
  @Property({ type: 'jsonb', default: '[]' })
  contentPatterns: ContentPattern[] = [];

  @Field(() => [KeywordList], {
    description:
      "FILE policies: named keyword lists counted in files' text at each data scan; empty: none. With patterns or lists, the policy matches a file when any of them reaches its minCount (and the condition holds).",
  })
  @Property({ type: 'jsonb', default: '[]' })
  keywordLists: KeywordList[] = [];

  /** Installed by Tenantwatch itself (not by an administrator). */
  @Property({ type: 'boolean' })
  builtIn: boolean = false;

  @Field({ description: 'When it was created.' })
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
