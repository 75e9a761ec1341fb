import type { ContentRuleMatch, SensitiveMatch } from '../../subgraphs/files/public.js';
import { ActivityEvaluator } from './activity-evaluator.js';
import { AssetEvaluator } from './asset-evaluator.js';
import { contentRulesFor, type ContentRuleSet } from './content-rules.js';
import type { EvaluationServices, Tally } from './enabled.js';

export type { EvaluationServices, Tally } from './enabled.js';

/**
 * Runs what scans store through the enabled policies and records matches with
 * `DetectionService.raiseOrExtend`: one open detection per policy, subject and window, whose evidence
 * grows; what a detection already recorded is never recorded twice, so evaluating again is harmless.
 * Every method throws on database errors: the scan's page is then retried and evaluated again.
 */
export class PolicyEvaluator {
  private readonly activities: ActivityEvaluator;
  private readonly assets: AssetEvaluator;

  constructor(private readonly services: EvaluationServices) {
    this.activities = new ActivityEvaluator(services);
    this.assets = new AssetEvaluator(services);
  }

  /** After an activities page: the activities stored and not yet evaluated. */
  evaluatePendingActivities(instanceId: string): Promise<Tally> {
    return this.activities.evaluatePending(instanceId);
  }

  /** After an activities window is completely stored, before its watermark is saved: history-dependent policies. */
  evaluateActivityWindow(instanceId: string, from: Date, to: Date): Promise<Tally> {
    return this.activities.evaluateWindow(instanceId, from, to);
  }

  /** After a files page, or a file's data scan (with its new matches in `scanned` and `scannedRules`). */
  evaluateFiles(
    instanceId: string,
    fileIds: readonly string[],
    scanned?: ReadonlyMap<string, readonly SensitiveMatch[]>,
    scannedRules?: ReadonlyMap<string, readonly ContentRuleMatch[]>,
  ): Promise<Tally> {
    return this.assets.evaluateFiles(instanceId, fileIds, scanned, scannedRules);
  }

  /** Before a data scan reads files: the content rules of the FILE policies that apply to the instance now. */
  contentRules(instanceId: string): Promise<ContentRuleSet> {
    return contentRulesFor(this.services, instanceId);
  }

  /** After a grants page. */
  evaluateGrants(instanceId: string, grantIds: readonly string[]): Promise<Tally> {
    return this.assets.evaluateGrants(instanceId, grantIds);
  }
}
