import type { IncomingMessage } from 'node:http';

/**
 * The header on the gateway's requests to the subgraphs that carries its client's address. A
 * subgraph believes it only when GATEWAY_SHARED_SECRET is configured (the request then proved it
 * comes from the gateway); otherwise it records the address it was called from.
 */
export const CLIENT_ADDRESS_HEADER = 'x-tenantwatch-client-address';
/** A request id, recorded with the audit entries of the request when it carries one. */
export const REQUEST_ID_HEADER = 'x-request-id';

/** An address or request id as recorded: printable, at most 128 characters. */
const RECORDABLE = /^[\w.:%[\]/-]{1,128}$/;

/** One header's value when it is recordable. */
function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' && RECORDABLE.test(value) ? value : undefined;
}

/** Where a request came from, and its id, as the audit log records them. */
export interface RequestOrigin {
  readonly clientAddress?: string;
  readonly requestId?: string;
}

/**
 * The origin of a request a subgraph serves: the forwarded client address when `fromGateway` (the
 * shared secret was checked), else the caller's own socket address.
 */
export function originOf(req: IncomingMessage, fromGateway: boolean): RequestOrigin {
  const forwarded = fromGateway ? header(req, CLIENT_ADDRESS_HEADER) : undefined;
  const clientAddress = forwarded ?? req.socket.remoteAddress;
  const requestId = header(req, REQUEST_ID_HEADER);
  return { ...(clientAddress ? { clientAddress } : {}), ...(requestId ? { requestId } : {}) };
}
