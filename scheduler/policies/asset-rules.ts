import { createHash } from 'node:crypto';
import type { AppPermission } from '../../subgraphs/app-permissions/public.js';
import type { AppPermissionCondition, FileCondition, Policy } from '../../subgraphs/activities/public.js';
import type { File } from '../../subgraphs/files/public.js';
import { anyGlob } from './match.js';

/** The part of a file the rules read. */
export type FileFacts = Pick<File, 'id' | 'name' | 'path' | 'ownerId' | 'sharing' | 'collaborators' | 'trashed' | 'sensitiveMatches'> & {
  /** Absent: none. */
  readonly contentRuleMatches?: File['contentRuleMatches'];
};
type RuleMatches = File['contentRuleMatches'];

/** A FILE policy's content rules as its rule reads them: each rule's name and the count it needs. */
type ContentThresholds = ReadonlyMap<string, number>;

/**
 * A FILE condition made ready to match many files; with the policy's content rules (`policy`), a file
 * must also have at least one rule of the policy counted at its minCount or more.
 */
export class FileRule {
  private readonly types: ReadonlySet<string> | null;
  private readonly thresholds: ContentThresholds | null;
  readonly policyId: string | null;

  constructor(
    readonly condition: FileCondition,
    policy?: Pick<Policy, 'id' | 'contentPatterns' | 'keywordLists'>,
  ) {
    this.types = condition.sensitiveType ? new Set(condition.sensitiveType) : null;
    this.policyId = policy?.id ?? null;
    const rules = policy ? [...policy.contentPatterns, ...policy.keywordLists] : [];
    this.thresholds = rules.length > 0 ? new Map(rules.map((r) => [r.name, r.minCount])) : null;
  }

  /** The file's counts of this policy's content rules, named as the policy names them now. */
  ruleMatches(f: Pick<FileFacts, 'contentRuleMatches'>): RuleMatches {
    if (!this.thresholds) return [];
    return (f.contentRuleMatches ?? []).filter((m) => m.policyId === this.policyId && this.thresholds!.has(m.rule) && m.count > 0);
  }

  get needsAdmins(): boolean {
    return this.condition.ownerIsAdmin !== undefined;
  }

  /** `admins`: account ids of the owners who are admins. */
  matches(f: FileFacts, admins: ReadonlySet<string>): boolean {
    const c = this.condition;
    if (c.sharing && !c.sharing.includes(f.sharing)) return false;
    if (c.trashed !== undefined && f.trashed !== c.trashed) return false;
    if (c.ownerIsAdmin !== undefined && (f.ownerId !== null && admins.has(f.ownerId)) !== c.ownerIsAdmin) return false;
    if (c.namePattern && !anyGlob(c.namePattern, f.name)) return false;
    if (this.types || c.minCount !== undefined) {
      const min = c.minCount ?? 1;
      if (!f.sensitiveMatches.some((m) => (!this.types || this.types.has(m.type)) && m.count >= min)) return false;
    }
    if (this.thresholds && !this.ruleMatches(f).some((m) => m.count >= this.thresholds!.get(m.rule)!)) return false;
    return true;
  }
}

/**
 * What a file detection records: the state that matched, and a key that changes with it. `ruleMatches`:
 * the counts of the policy's own content rules (names and counts, never text), part of the state when any.
 */
export function fileObservation(f: FileFacts, ruleMatches: RuleMatches = []): { key: string; evidence: Record<string, unknown> } {
  const sensitiveMatches = f.sensitiveMatches
    .filter((m) => m.count > 0)
    .sort((a, b) => a.type.localeCompare(b.type))
    .map((m) => ({ type: m.type, count: m.count }));
  const contentRuleMatches = ruleMatches
    .map((m) => ({ rule: m.rule, kind: m.kind, count: m.count }))
    .sort((a, b) => a.rule.localeCompare(b.rule));
  const state = {
    name: f.name,
    path: f.path,
    ownerId: f.ownerId,
    sharing: f.sharing,
    trashed: f.trashed,
    sensitiveMatches,
    // Only when there are some: the states (and keys) of policies without content rules stay as they were.
    ...(contentRuleMatches.length > 0 ? { contentRuleMatches } : {}),
  };
  const digest = createHash('sha256').update(JSON.stringify(state)).digest('hex').slice(0, 16);
  return { key: `file:${f.id}:${digest}`, evidence: { ...state, collaborators: f.collaborators.slice(0, 20) } };
}

/** The part of a grant the rules read. */
export type GrantFacts = Pick<
  AppPermission,
  'id' | 'appName' | 'clientId' | 'publisher' | 'scopes' | 'permissionLevel' | 'grantedById' | 'grantedAt' | 'revoked'
>;

/** An APP_PERMISSION condition made ready to match many grants; `grantedByAtLeast` is counted per app afterwards. */
export class AppPermissionRule {
  private readonly needles: readonly string[] | null;
  private readonly appNames: readonly string[] | null;

  constructor(readonly condition: AppPermissionCondition) {
    this.needles = condition.scopeContains?.map((s) => s.toLowerCase()) ?? null;
    this.appNames = condition.appName?.map((s) => s.toLowerCase()) ?? null;
  }

  matches(g: GrantFacts): boolean {
    const c = this.condition;
    if (g.revoked) return false;
    if (c.permissionLevel && !c.permissionLevel.includes(g.permissionLevel)) return false;
    if (this.needles && !g.scopes.some((scope) => this.needles!.some((needle) => scope.toLowerCase().includes(needle)))) return false;
    if (c.clientId && !c.clientId.includes(g.clientId)) return false;
    if (this.appNames && !anyGlob(this.appNames, g.appName.toLowerCase())) return false;
    return true;
  }
}

/** One app's matching grants: how many distinct accounts hold them, and the evidence. */
export function appObservation(grants: readonly GrantFacts[]): { grantors: number; evidence: Record<string, unknown> } {
  const first = grants[0]!;
  const grantorIds = [...new Set(grants.flatMap((g) => (g.grantedById ? [g.grantedById] : [])))];
  return {
    grantors: grantorIds.length,
    evidence: {
      appName: first.appName,
      clientId: first.clientId,
      publisher: first.publisher,
      permissionLevel: first.permissionLevel,
      scopes: [...new Set(grants.flatMap((g) => g.scopes))],
      grantedBy: grantorIds.length,
      grantorIds,
      appPermissionIds: grants.map((g) => g.id),
    },
  };
}
