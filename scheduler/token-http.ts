import type { Dispatcher } from 'undici';
import { EndpointRefusedError, TransientError, type TokenHttp } from '../connectors/contract.js';
import { outboundRefusalOf } from '../platform/outbound.js';

/** How long a token endpoint may take to answer. */
const TOKEN_TIMEOUT_MS = 30_000;

/**
 * Token requests over fetch, through the outbound policy's dispatcher (a token endpoint is an
 * endpoint too) and never the rate budget. An unreachable endpoint is a TransientError (the step is
 * retried later); one the policy refuses, an EndpointRefusedError.
 */
export function fetchTokenHttp(dispatcher: Dispatcher | undefined, signal?: AbortSignal): TokenHttp {
  const send: TokenHttp['send'] = async (method, url, init = {}) => {
    let response: Response;
    try {
      response = await fetch(url, {
        dispatcher,
        method,
        headers: { accept: 'application/json', ...init.headers },
        body: init.body,
        signal: signal ? AbortSignal.any([AbortSignal.timeout(TOKEN_TIMEOUT_MS), signal]) : AbortSignal.timeout(TOKEN_TIMEOUT_MS),
      } as RequestInit);
    } catch (error) {
      signal?.throwIfAborted();
      const refusal = outboundRefusalOf(error);
      if (refusal) throw new EndpointRefusedError(`The token endpoint is refused: ${refusal.message}`);
      throw new TransientError('The identity provider could not be reached');
    }
    const text = await response.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: the caller sees the text and refuses it as an answer without a token.
    }
    return { status: response.status, headers: Object.fromEntries(response.headers), body };
  };
  return {
    send,
    async postForm(url, form) {
      const { status, body } = await send('POST', url, {
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(form).toString(),
      });
      return { status, body };
    },
  };
}
