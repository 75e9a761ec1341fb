import tls from 'node:tls';
import dns from 'node:dns';
import net from 'node:net';
import { Agent, buildConnector, type Dispatcher } from 'undici';

/**
 * Where Tenantwatch may call a provider. Connector endpoints come from an admin's `connectApp`; in
 * production (CONNECTOR_ALLOW_PRIVATE off) they must be public internet addresses, so that an
 * instance cannot be pointed at cloud metadata (169.254.169.254), loopback services or the private
 * network Tenantwatch runs in. The address is checked where the connection is made: the DNS answer
 * before connecting, and the connected peer itself, so a name that resolves (or re-resolves: DNS
 * rebinding) to a private address, a literal in any spelling and a redirect to either are refused.
 */

/**
 * Address ranges that are not the public internet (IANA special-purpose registries, RFC 6890). An
 * IPv4-mapped IPv6 address (`::ffff:127.0.0.1`) is checked against the IPv4 ranges by BlockList itself.
 */
const NOT_PUBLIC = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8], // "this network"
  ['10.0.0.0', 8], // private
  ['100.64.0.0', 10], // carrier-grade NAT
  ['127.0.0.0', 8], // loopback
  ['169.254.0.0', 16], // link-local, cloud metadata
  ['172.16.0.0', 12], // private
  ['192.0.0.0', 24], // IETF protocol assignments
  ['192.0.2.0', 24], // documentation
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16], // private
  ['198.18.0.0', 15], // benchmarking
  ['198.51.100.0', 24], // documentation
  ['203.0.113.0', 24], // documentation
  ['224.0.0.0', 4], // multicast
  ['240.0.0.0', 4], // reserved, broadcast
] as const) {
  NOT_PUBLIC.addSubnet(prefix, bits, 'ipv4');
}
for (const [prefix, bits] of [
  ['::', 128], // unspecified
  ['::1', 128], // loopback
  ['::', 96], // IPv4-compatible (deprecated): may embed any IPv4 address
  ['64:ff9b::', 96], // NAT64: reaches an IPv4 address through a translator
  ['64:ff9b:1::', 48], // local-use NAT64
  ['100::', 64], // discard
  ['2001::', 23], // IETF protocol assignments, Teredo
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds an IPv4 address
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8], // multicast
] as const) {
  NOT_PUBLIC.addSubnet(prefix, bits, 'ipv6');
}

/** Whether `address` (an IPv4 or IPv6 literal) is a public internet address. */
export function isPublicAddress(address: string): boolean {
  const family = net.isIPv4(address) ? 'ipv4' : net.isIPv6(address) ? 'ipv6' : undefined;
  if (!family) return false;
  return !NOT_PUBLIC.check(address, family);
}

/** A connection refused by the outbound policy: Tenantwatch's words, safe to show. */
export class OutboundRefusedError extends Error {
  override readonly name = 'OutboundRefusedError';
  readonly code = 'EOUTBOUNDREFUSED';
}

const HOW_TO_ALLOW = 'refused by the outbound policy (set CONNECTOR_ALLOW_PRIVATE=true to allow private endpoints)';

/**
 * Checks an endpoint as an admin gives it: an http(s) URL, and, when private endpoints are not
 * allowed, not an IP literal of a non-public address (however it is spelled: the WHATWG URL parser
 * normalizes `0x7f.1` and `2130706433` to `127.0.0.1`). Answers why it is refused, or null. A host
 * name is checked when it is resolved, at every connection.
 */
export function endpointRefusal(endpoint: string, allowPrivate: boolean): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be an http or https URL, not ${url.protocol}`;
  if (url.username || url.password) return 'must not carry credentials in the URL; put them in the config fields';
  if (allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (net.isIP(host) && !isPublicAddress(host)) return `${host} is not a public internet address; ${HOW_TO_ALLOW}`;
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is this machine; ${HOW_TO_ALLOW}`;
  return null;
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/** dns.lookup, refusing a name any of whose addresses is not public. */
function publicLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, []);
    const refused = addresses.find((a) => !isPublicAddress(a.address));
    if (refused)
      return callback(
        new OutboundRefusedError(`${hostname} resolves to ${refused.address}, not a public internet address; ${HOW_TO_ALLOW}`),
        [],
      );
    if (options.all) return callback(null, addresses);
    const [first] = addresses;
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), []);
    callback(null, first.address, first.family);
  });
}

/**
 * The HTTP dispatcher for calls to providers: when private endpoints are not allowed, names are
 * resolved through {@link publicLookup} and every connected socket's peer is checked again (a
 * literal address, a redirect), before anything is sent. Undefined when everything is allowed.
 */
export function outboundDispatcher(allowPrivate: boolean, extraCa?: string): Dispatcher | undefined {
  // Extra authorities are trusted besides the system's, never instead of them.
  const ca = extraCa ? [...tls.rootCertificates, extraCa] : undefined;
  if (allowPrivate) return ca ? new Agent({ connect: { ca } }) : undefined;
  const connect = buildConnector({ lookup: publicLookup as never, ...(ca ? { ca } : {}) });
  return new Agent({
    connect: (options, callback) =>
      connect(options, (error, socket) => {
        if (error || !socket) return callback(error ?? new Error('no socket'), null);
        const peer = socket.remoteAddress ?? '';
        if (!isPublicAddress(peer)) {
          socket.destroy();
          return callback(
            new OutboundRefusedError(
              `${options.hostname} is ${peer || 'an unknown address'}, not a public internet address; ${HOW_TO_ALLOW}`,
            ),
            null,
          );
        }
        callback(null, socket);
      }),
  });
}

/** The policy's refusal behind a failed fetch, if that is why it failed. */
export function outboundRefusalOf(error: unknown): OutboundRefusedError | undefined {
  for (let cause: unknown = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    if (cause instanceof OutboundRefusedError) return cause;
  }
  return undefined;
}
