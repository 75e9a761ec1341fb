import { PolicyKind } from '../../subgraphs/activities/public.js';
import type { ContentRuleMatch, SensitiveMatch } from '../../subgraphs/files/public.js';
import { appObservation, AppPermissionRule, fileObservation, FileRule } from './asset-rules.js';
import {
  distinct,
  emptyTally,
  enabledPolicies,
  groupBy,
  matchHeader,
  recordMatch,
  type EvaluationServices,
  type Tally,
} from './enabled.js';

/**
 * FILE and APP_PERMISSION policies, on files and grants as a scan stored them. These describe state,
 * not events: a detection records each file state (or grant) once, so the same page read again, or a
 * full listing of unchanged files, records nothing.
 */
export class AssetEvaluator {
  constructor(private readonly services: EvaluationServices) {}

  /**
   * Evaluates live files; `scanned` (and `scannedRules`) override the sensitive matches (and content
   * rule matches) of files whose data scan is about to be recorded (evaluating first means a crash in
   * between only repeats the scan).
   */
  async evaluateFiles(
    instanceId: string,
    fileIds: readonly string[],
    scanned: ReadonlyMap<string, readonly SensitiveMatch[]> = new Map(),
    scannedRules: ReadonlyMap<string, readonly ContentRuleMatch[]> = new Map(),
  ): Promise<Tally> {
    const tally = emptyTally();
    if (fileIds.length === 0) return tally;
    const policies = await enabledPolicies(this.services, PolicyKind.FILE, (c, policy) => new FileRule(c, policy), instanceId);
    if (policies.length === 0) return tally;
    const files = (await this.services.files().byIds(fileIds))
      .filter((f) => f.instanceId === instanceId && f.deletedAt === null)
      .map((f) => ({
        ...f,
        sensitiveMatches: [...(scanned.get(f.id) ?? f.sensitiveMatches)],
        contentRuleMatches: [...(scannedRules.get(f.id) ?? f.contentRuleMatches)],
      }));
    const owners = policies.some((p) => p.rule.needsAdmins)
      ? await this.services.accounts().accountsByIds(distinct(files.map((f) => f.ownerId)))
      : [];
    const admins = new Set(owners.filter((a) => a.isAdmin).map((a) => a.id));
    const now = new Date();
    for (const p of policies) {
      for (const file of files.filter((f) => p.rule.matches(f, admins))) {
        const ruleMatches = p.rule.ruleMatches(file);
        const { key, evidence } = fileObservation(file, ruleMatches);
        const found = [
          ...file.sensitiveMatches.filter((m) => m.count > 0).map((m) => `${m.count} ${m.type}`),
          ...ruleMatches.map((m) => `${m.count} "${m.rule}"`),
        ];
        await recordMatch(
          this.services,
          {
            ...matchHeader(p, instanceId, `file:${file.id}`),
            description: `${file.path} (${file.sharing.toLowerCase()}${found.length ? `; ${found.join(', ')}` : ''})`,
            accountId: file.ownerId,
            fileId: file.id,
            observations: [key],
            firstSeenAt: now,
            lastSeenAt: now,
            evidence,
          },
          tally,
        );
      }
    }
    return tally;
  }

  /** Evaluates live grants; the app (client id) is the subject, so an app's grants share one detection. */
  async evaluateGrants(instanceId: string, grantIds: readonly string[]): Promise<Tally> {
    const tally = emptyTally();
    if (grantIds.length === 0) return tally;
    const policies = await enabledPolicies(this.services, PolicyKind.APP_PERMISSION, (c) => new AppPermissionRule(c), instanceId);
    if (policies.length === 0) return tally;
    const grants = (await this.services.grants().byIds(grantIds)).filter((g) => g.instanceId === instanceId && g.deletedAt === null);
    const now = new Date();
    for (const p of policies) {
      const apps = distinct(grants.filter((g) => p.rule.matches(g)).map((g) => g.clientId));
      if (apps.length === 0) continue;
      // All the app's live grants, not only this page's: "granted by at least N" counts across pages.
      const all = (await this.services.grants().liveGrantsOfApps(instanceId, apps)).filter((g) => p.rule.matches(g));
      for (const [clientId, appGrants] of groupBy(all, (g) => g.clientId)) {
        const { grantors, evidence } = appObservation(appGrants);
        if (grantors < (p.rule.condition.grantedByAtLeast ?? 0)) continue;
        const first = appGrants[0]!;
        await recordMatch(
          this.services,
          {
            ...matchHeader(p, instanceId, `app:${clientId}`),
            description: `${first.appName} (${first.permissionLevel.toLowerCase()} permission) granted by ${grantors} account${grantors === 1 ? '' : 's'}`,
            accountId: first.grantedById,
            appPermissionId: first.id,
            observations: appGrants.map((g) => g.id),
            firstSeenAt: now,
            lastSeenAt: now,
            evidence,
            accumulate: ['grantorIds', 'appPermissionIds'],
          },
          tally,
        );
      }
    }
    return tally;
  }
}
