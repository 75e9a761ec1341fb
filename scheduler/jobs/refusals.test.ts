import { describe, expect, it } from 'vitest';
import {
  CredentialError,
  CursorExpiredError,
  PermanentError,
  ThrottledError,
  TransientError,
  UnsupportedError,
} from '../../connectors/contract.js';
import { itemRefusal, refusedReason } from './refusals.js';

describe('itemRefusal', () => {
  it('skips an item the provider refuses or no longer has, with the reason in Tenantwatch’s words', () => {
    expect(itemRefusal(new CredentialError('x', 403), 'file')).toEqual({ reason: refusedReason('file'), status: 403, gone: false });
    expect(itemRefusal(new PermanentError('x', 404), 'file')).toEqual({
      reason: 'The provider no longer has the file (HTTP 404)',
      status: 404,
      gone: true,
    });
    expect(itemRefusal(new CursorExpiredError('x', 410), 'file')?.gone).toBe(true);
    expect(itemRefusal(new PermanentError('x', 413), 'file')?.reason).toBe('The provider refused the file as too large (HTTP 413)');
    expect(itemRefusal(new PermanentError('x', 415), 'file')?.reason).toBe(
      'The provider refused the file as of an unsupported type (HTTP 415)',
    );
    expect(itemRefusal(new UnsupportedError('x'), 'file')).toEqual({ reason: 'The connector cannot read this file', gone: false });
  });

  it('leaves to the run what is not about the item: refused credentials, throttling, transient failures, our own errors', () => {
    expect(itemRefusal(new CredentialError('x', 401), 'file')).toBeUndefined();
    expect(itemRefusal(new ThrottledError('x', 1000), 'file')).toBeUndefined();
    expect(itemRefusal(new TransientError('x', 503), 'file')).toBeUndefined();
    expect(itemRefusal(new Error('bug'), 'file')).toBeUndefined();
  });
});
