import { describe, expect, it } from 'vitest';
import { parsePolicyCondition } from '../../subgraphs/activities/public.js';
import { BUILT_IN_POLICIES } from './built-in.js';

describe('the built-in policies', () => {
  it('each have a condition the policy schema accepts', () => {
    for (const policy of BUILT_IN_POLICIES)
      expect(parsePolicyCondition(policy.kind, policy.condition), policy.name).toMatchObject({ ok: true });
  });
});
