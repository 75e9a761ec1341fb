import { GraphQLJSON } from 'graphql-scalars';
import { requireEveryInstance } from '../../platform/scope.js';
import { Arg, Authorized, Ctx, Field, ID, InputType, Mutation, Query, Resolver } from 'type-graphql';
import type { SubgraphContext } from '../../platform/context.js';
import { badInput } from '../../platform/errors.js';
import { parseId } from '../../platform/ids.js';
import { services } from './context.js';
import { ContentPatternInput, KeywordListInput, readContentRules } from './content-rules.js';
import { parsePolicyCondition } from './policy-condition.js';
import { Policy, PolicyKind, Severity } from './policy.entity.js';
import type { PolicyDefinition } from './policy.service.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';

@InputType({ description: 'A policy definition: createPolicy stores it, updatePolicy replaces a policy with it.' })
export class PolicyInput {
  @Field({ description: 'Its name (1 to 200 characters), also the title of its detections.' })
  name!: string;

  @Field(() => PolicyKind, { description: 'What it watches; decides the shape of `condition`.' })
  kind!: PolicyKind;

  @Field(() => Severity, { description: 'The severity of its detections.' })
  severity!: Severity;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Whether it raises detections; absent: true for createPolicy, unchanged for updatePolicy.',
  })
  enabled?: boolean | null;

  @Field(() => String, { nullable: true, description: 'What it is for (at most 2,000 characters); absent or null: none.' })
  description?: string | null;

  @Field(() => GraphQLJSON, {
    description:
      'What must match: a JSON object whose fields depend on the kind (checked: a bad field is refused, named as `input.condition.<field>`).',
  })
  condition!: unknown;

  @Field(() => [GovernanceActionType], {
    nullable: true,
    description: 'Governance actions to request automatically for its detections (see `Policy.autoGovernance`); absent: none.',
  })
  autoGovernance?: GovernanceActionType[] | null;

  @Field(() => [ID], {
    nullable: true,
    description: 'The instances it applies to (at most 100), beside every instance of `providers`. Both empty or absent: every instance.',
  })
  instanceIds?: string[] | null;

  @Field(() => [String], {
    nullable: true,
    description: 'Connectors (`connectApp` providers, e.g. "m365"; at most 20) whose every instance it applies to, beside `instanceIds`.',
  })
  providers?: string[] | null;

  @Field(() => [ContentPatternInput], {
    nullable: true,
    description:
      "FILE policies: named regular expressions (at most 20) counted in files' text at each data scan; an unsafe one is refused. Absent: none.",
  })
  contentPatterns?: ContentPatternInput[] | null;

  @Field(() => [KeywordListInput], {
    nullable: true,
    description:
      "FILE policies: named keyword lists (at most 20) counted in files' text at each data scan. With patterns or lists, the condition may be {} and the policy matches a file when any of them reaches its minCount. Absent: none.",
  })
  keywordLists?: KeywordListInput[] | null;
}

/** Checks a policy definition at the edge; throws BAD_USER_INPUT naming the bad field. */
function readPolicyInput(input: PolicyInput): PolicyDefinition {
  const name = input.name.trim();
  if (name.length === 0 || name.length > 200) throw badInput('input.name', 'must be 1 to 200 characters');
  if (input.description && input.description.length > 2000) throw badInput('input.description', 'must be at most 2000 characters');
  const instanceIds = input.instanceIds ?? [];
  if (instanceIds.length > 100) throw badInput('input.instanceIds', 'must hold at most 100 instance ids');
  const providers = input.providers ?? [];
  if (providers.length > 20) throw badInput('input.providers', 'must hold at most 20 providers');
  providers.forEach((p, i) => {
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(p))
      throw badInput(`input.providers.${i}`, 'must be a connector name such as "m365" (lower-case letters, digits, dashes)');
  });
  const rules = readContentRules(input.kind, input.contentPatterns, input.keywordLists);
  const contentRules = rules.contentPatterns.length + rules.keywordLists.length > 0;
  const condition = parsePolicyCondition(input.kind, input.condition, { contentRules });
  if (!condition.ok) throw badInput(condition.field ? `input.condition.${condition.field}` : 'input.condition', condition.message);
  return {
    name,
    kind: input.kind,
    severity: input.severity,
    enabled: input.enabled ?? undefined,
    description: input.description ?? null,
    condition: input.condition as Record<string, unknown>,
    autoGovernance: [...new Set(input.autoGovernance ?? [])],
    instanceIds: [...new Set(instanceIds.map((id, i) => parseId(id, `input.instanceIds.${i}`)))],
    providers: [...new Set(providers)],
    ...rules,
  };
}

@Resolver(() => Policy)
export class PolicyResolver {
  @Query(() => [Policy], { description: 'Every policy, built-in ones included, oldest first.' })
  async policies(@Ctx() ctx: SubgraphContext): Promise<Policy[]> {
    return services.policy(ctx).list();
  }

  @Authorized('admin')
  @Mutation(() => Policy, {
    description: 'Creates a policy, evaluated from then on as the scans store activities, files and grants. Role: admin.',
  })
  async createPolicy(
    @Arg('input', () => PolicyInput, { description: 'The policy.' }) input: PolicyInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Policy> {
    requireEveryInstance(ctx, 'A policy');
    return services.policy(ctx).create({ enabled: true, ...readPolicyInput(input) });
  }

  @Authorized('admin')
  @Mutation(() => Policy, {
    description: "Replaces a policy's definition, a built-in one's too (Tenantwatch keeps the change). Role: admin.",
  })
  async updatePolicy(
    @Arg('id', () => ID, { description: "The policy's id." }) id: string,
    @Arg('input', () => PolicyInput, { description: 'Its new definition, in place of the old one (absent `enabled`: unchanged).' })
    input: PolicyInput,
    @Ctx() ctx: SubgraphContext,
  ): Promise<Policy> {
    requireEveryInstance(ctx, 'A policy');
    const policy = await services.policy(ctx).update(parseId(id, 'id'), readPolicyInput(input));
    if (!policy) throw badInput('id', `no policy has id ${id}`);
    return policy;
  }
}
