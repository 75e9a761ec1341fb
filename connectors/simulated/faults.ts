import type { Faults } from './spec.js';

/** What fault, if any, to inject into one `/api/` request. */
export type FaultDecision =
  | { readonly kind: 'none' }
  | { readonly kind: 'error' }
  | { readonly kind: 'drop' }
  | { readonly kind: 'throttle' }
  | { readonly kind: 'slow'; readonly ms: number };

/**
 * Draws a fault for one request: dropped with `dropRate`, else 503 with `errorRate`, else 429 with
 * `throttleRate`, else slowed by `slowMs` with `slowRate`. `random` is Math.random by default
 * (faults need not be reproducible).
 */
export function decideFault(faults: Faults, random: () => number = Math.random): FaultDecision {
  const r = random();
  if (r < faults.dropRate) return { kind: 'drop' };
  if (r < faults.dropRate + faults.errorRate) return { kind: 'error' };
  if (r < faults.dropRate + faults.errorRate + faults.throttleRate) return { kind: 'throttle' };
  if (faults.slowRate > 0 && random() < faults.slowRate) return { kind: 'slow', ms: faults.slowMs };
  return { kind: 'none' };
}
