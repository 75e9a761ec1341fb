import { Entity, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { GraphQLJSON } from 'graphql-scalars';
import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { newId } from '../../platform/ids.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';

export enum PolicyKind {
  ACTIVITY = 'ACTIVITY',
  FILE = 'FILE',
  APP_PERMISSION = 'APP_PERMISSION',
}
registerEnumType(PolicyKind, { name: 'PolicyKind' });

export enum Severity {
  INFORMATIONAL = 'INFORMATIONAL',
  LOW = 'LOW',
  MEDIUM = 'MEDIUM',
  HIGH = 'HIGH',
}
registerEnumType(Severity, { name: 'Severity' });

/** Severities from lowest to highest. */
export const SEVERITY_ORDER: readonly Severity[] = [Severity.INFORMATIONAL, Severity.LOW, Severity.MEDIUM, Severity.HIGH];

/** A rule that raises detections when activities, files or app permissions match its condition. */
@ObjectType({ description: 'A rule that raises detections when its condition matches.' })
@Entity({ tableName: 'policy' })
export class Policy {
  [OptionalProps]?:
    'id' | 'enabled' | 'description' | 'autoGovernance' | 'instanceIds' | 'providers' | 'builtIn' | 'createdAt' | 'updatedAt';

  @Field(() => ID)
  @PrimaryKey({ type: 'uuid' })
  id: string = newId();

  @Field()
  @Property({ type: 'text' })
  name!: string;

  @Field(() => PolicyKind)
  @Property({ type: 'text' })
  kind!: PolicyKind;

  @Field(() => Severity)
  @Property({ type: 'text' })
  severity!: Severity;

  @Field()
  @Property({ type: 'boolean' })
  enabled: boolean = true;

  @Field(() => String, { nullable: true })
  @Property({ type: 'text', nullable: true })
  description: string | null = null;

  @Field(() => GraphQLJSON)
  @Property({ type: 'jsonb' })
  condition!: Record<string, unknown>;

  @Field(() => [GovernanceActionType])
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

  /** Installed by Tenantwatch itself (not by an administrator). */
  @Property({ type: 'boolean' })
  builtIn: boolean = false;

  @Field()
  @Property({ type: 'timestamptz' })
  createdAt: Date = new Date();

  @Property({ type: 'timestamptz', onUpdate: () => new Date() })
  updatedAt: Date = new Date();
}
