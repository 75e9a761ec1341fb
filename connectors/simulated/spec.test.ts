import { describe, expect, it } from 'vitest';
import { parseSpec, TenantPatchSchema } from './spec.js';

describe('TenantPatchSchema', () => {
  it('leaves out what a patch does not name (no defaults sneak in)', () => {
    const patch = parseSpec(TenantPatchSchema, { webhook: { url: 'http://127.0.0.1:1/x', secret: 's' } }, 'patch');
    expect(patch).toEqual({ webhook: { url: 'http://127.0.0.1:1/x', secret: 's' } });
  });
});
