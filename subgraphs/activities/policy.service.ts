import type { EntityManager } from '@mikro-orm/postgresql';
import { Policy, PolicyKind, Severity } from './policy.entity.js';
import { GovernanceActionType } from '../../platform/governance/actions.js';
import type { ContentPattern, KeywordList } from './content-rules.js';

/** What an administrator writes to create or replace a policy. */
export interface PolicyDefinition {
  readonly name: string;
  readonly kind: PolicyKind;
  readonly severity: Severity;
  readonly enabled?: boolean;
  readonly description?: string | null;
  readonly condition: Record<string, unknown>;
  readonly autoGovernance?: readonly GovernanceActionType[];
  /** The instances it applies to, beside every instance of `providers`; both empty or absent: every instance. */
  readonly instanceIds?: readonly string[];
  readonly providers?: readonly string[];
  /** FILE policies' custom content rules, checked (see content-rules.ts); absent: none. */
  readonly contentPatterns?: readonly ContentPattern[];
  readonly keywordLists?: readonly KeywordList[];
}

/** Whether `policy` applies to an instance: it names none (every instance), or this one, or its provider. */
export function policyApplies(policy: Pick<Policy, 'instanceIds' | 'providers'>, instanceId: string, provider: string | null): boolean {
  if (policy.instanceIds.length === 0 && policy.providers.length === 0) return true;
  return policy.instanceIds.includes(instanceId) || (provider !== null && policy.providers.includes(provider));
}

/** The only writer of policies; also their reads. */
export class PolicyService {
  constructor(private readonly em: EntityManager) {}

  async create(definition: PolicyDefinition, builtIn = false): Promise<Policy> {
    const policy = this.em.create(Policy, {
      ...definition,
      description: definition.description ?? null,
      autoGovernance: [...(definition.autoGovernance ?? [])],
      instanceIds: [...(definition.instanceIds ?? [])],
      providers: [...(definition.providers ?? [])],
      contentPatterns: [...(definition.contentPatterns ?? [])],
      keywordLists: [...(definition.keywordLists ?? [])],
      builtIn,
    });
    await this.em.persistAndFlush(policy);
    if (policy.kind === PolicyKind.FILE) await this.contentRulesChanged();
    return policy;
  }

  /** Replaces a policy's definition; answers null for an unknown id. */
  async update(id: string, definition: PolicyDefinition): Promise<Policy | null> {
    const policy = await this.em.findOne(Policy, { id });
    if (!policy) return null;
    const wasFile = policy.kind === PolicyKind.FILE;
    this.em.assign(policy, {
      ...definition,
      description: definition.description ?? null,
      enabled: definition.enabled ?? policy.enabled,
      autoGovernance: [...(definition.autoGovernance ?? [])],
      instanceIds: [...(definition.instanceIds ?? [])],
      providers: [...(definition.providers ?? [])],
      contentPatterns: [...(definition.contentPatterns ?? [])],
      keywordLists: [...(definition.keywordLists ?? [])],
    });
    await this.em.flush();
    if (wasFile || policy.kind === PolicyKind.FILE) await this.contentRulesChanged();
    return policy;
  }

  /**
   * Creates the built-in policies that do not exist yet, by their fixed ids: idempotent across
   * restarts and concurrent starts, and a built-in an administrator changed or disabled stays as
   * it is. Answers how many it created.
   */
  async installBuiltIns(definitions: readonly (PolicyDefinition & { readonly id: string })[]): Promise<number> {
    if (definitions.length === 0) return 0;
    const now = new Date();
    const rows = definitions.map((d) => ({
      id: d.id,
      name: d.name,
      kind: d.kind,
      severity: d.severity,
      enabled: d.enabled ?? true,
      description: d.description ?? null,
      condition: JSON.stringify(d.condition),
      auto_governance: [...(d.autoGovernance ?? [])],
      built_in: true,
      created_at: now,
      updated_at: now,
    }));
    const created = await this.em.getKnex()('activities.policy').insert(rows).onConflict('id').ignore().returning('id');
    return created.length;
  }

  /** The enabled policies of one kind, oldest first. */
  /**
   * Tells the schedulers (NOTIFY tenantwatch_scheduler) that a FILE policy changed: the files read under
   * other content rules are data-scanned now, not at the next periodic data scan (scheduler/dispatcher.ts).
   */
  private async contentRulesChanged(): Promise<void> {
    await this.em.getKnex().raw(`select pg_notify('tenantwatch_scheduler', ?)`, [JSON.stringify({ contentRules: true })]);
  }

  async enabledOfKind(kind: PolicyKind): Promise<Policy[]> {
    return this.em.find(Policy, { kind, enabled: true }, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async list(): Promise<Policy[]> {
    return this.em.find(Policy, {}, { orderBy: { createdAt: 'asc', id: 'asc' } });
  }

  async byIds(ids: readonly string[]): Promise<Policy[]> {
    return this.em.find(Policy, { id: { $in: [...ids] } });
  }
}
