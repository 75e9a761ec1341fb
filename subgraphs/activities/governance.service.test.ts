import { describe, expect, it } from 'vitest';
import { GovernanceActionType as T } from '../../platform/governance/actions.js';
import { inputHash } from './governance.service.js';

describe('the governance log', () => {
  it('hashes what makes a request the same: type, target, reason, dry run and detection', () => {
    const base = { type: T.SUSPEND_ACCOUNT, instanceId: 'i', accountId: 'a', requestedBy: 'alice', reason: 'phished' };
    expect(inputHash(base)).toBe(inputHash({ ...base, idempotencyKey: 'k' }));
    expect(inputHash(base)).toBe(inputHash({ ...base, requestedBy: 'bob' })); // the key is scoped by requester apart
    expect(inputHash(base)).not.toBe(inputHash({ ...base, reason: 'other' }));
    expect(inputHash(base)).not.toBe(inputHash({ ...base, accountId: 'b' }));
    expect(inputHash(base)).not.toBe(inputHash({ ...base, type: T.UNSUSPEND_ACCOUNT }));
    expect(inputHash(base)).not.toBe(inputHash({ ...base, dryRun: true }));
  });
});
