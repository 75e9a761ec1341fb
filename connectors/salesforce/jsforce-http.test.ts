import { setImmediate as tick } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { CredentialError, type ProviderHttp } from '../contract.js';
import { Org } from './org.js';

describe('jsforce through the scheduler’s ProviderHttp', () => {
  it('passes a failed request’s error to the caller, and nothing to an unread stream (which would end the process)', async () => {
    let asked = '';
    const http = {
      async request(request: { path: string }) {
        asked = request.path;
        throw new CredentialError('The identity provider refused to issue an access token (HTTP 400: invalid_grant)');
      },
    } as unknown as ProviderHttp;
    const org = new Org(http, 'https://acme.my.salesforce.com', '62.0');
    await expect(org.page('SELECT Id FROM User')).rejects.toBeInstanceOf(CredentialError);
    expect(asked).toBe(`/services/data/v62.0/query?q=${encodeURIComponent('SELECT Id FROM User')}`);
    // An unhandled 'error' event would be thrown on a later tick: let those run inside the test.
    await tick();
    await tick();
  });
});
