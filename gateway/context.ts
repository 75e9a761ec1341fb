import type { Principal } from '../platform/auth.js';

/** What the gateway knows of each request: the verified caller and the header to forward. */
export interface GatewayContext {
  readonly principal: Principal;
  readonly authorization: string;
  /** The client's address, forwarded to the subgraphs for their audit log. */
  readonly clientAddress?: string;
}
