import { CredentialError, ProviderError, UnsupportedError } from '../../connectors/contract.js';

/** Why the provider would not give one item, in Tenantwatch's words, and whether the item is gone. */
export interface ItemRefusal {
  readonly reason: string;
  /** The provider's HTTP status, when it answered one. */
  readonly status?: number;
  /** The item no longer exists at the provider (404, 410): it is marked deleted. */
  readonly gone: boolean;
}

/** What a skipped item's reason says when the provider answered 403 for it (the files whose skip is to be retried are found by it). */
export const refusedReason = (noun: string): string => `The provider refused to let Tenantwatch read the ${noun} (HTTP 403)`;

/**
 * What a failure to read one item (a file's content, a group's members) means for that item alone,
 * or undefined when it is not about the item and must stop the run: throttling and transient failures
 * (retried), refused credentials (the instance goes to ERROR), our own errors.
 *
 * A 403 on one item is taken as that item's own refusal (a file shared away from the app, a
 * sensitivity label); when every item of a run is refused so, the run's capability is checked (see
 * scheduler/scans.ts).
 */
export function itemRefusal(error: unknown, noun: string): ItemRefusal | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  if (status === 404 || status === 410) return { reason: `The provider no longer has the ${noun} (HTTP ${status})`, status, gone: true };
  if (error instanceof UnsupportedError) return { reason: `The connector cannot read this ${noun}`, gone: false };
  if (!(error instanceof ProviderError) || error.transient) return undefined;
  if (error instanceof CredentialError) return status === 403 ? { reason: refusedReason(noun), status, gone: false } : undefined;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const why = status === 413 ? ' as too large' : status === 415 ? ' as of an unsupported type' : '';
  return { reason: `The provider refused the ${noun}${why} (HTTP ${status})`, status, gone: false };
}
