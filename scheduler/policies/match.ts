import net from 'node:net';
import { parseCidr } from '../../subgraphs/activities/public.js';

/**
 * Matches `text` against a glob (`*` any run, `?` one character), case-insensitively, in
 * O(text × pattern) time without regular expressions: no pattern can backtrack catastrophically.
 */
export function globMatch(pattern: string, text: string): boolean {
  const p = [...pattern.toLowerCase()];
  const t = [...text.toLowerCase()];
  let pi = 0;
  let ti = 0;
  // The last `*` seen and the text position it currently stands for, to fall back to.
  let star = -1;
  let resume = 0;
  while (ti < t.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === t[ti]) && p[pi] !== '*') {
      pi++;
      ti++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      resume = ti;
    } else if (star >= 0) {
      pi = star + 1;
      ti = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}

/** True when `text` matches any of the globs. */
export function anyGlob(patterns: readonly string[], text: string): boolean {
  return patterns.some((pattern) => globMatch(pattern, text));
}

/** True when a glob has no wildcard (and so can be pushed down to SQL as an exact value). */
export const isLiteral = (pattern: string) => !/[*?]/.test(pattern);

/** A set of CIDR blocks, IPv4 and IPv6 (an IPv4-mapped IPv6 address is checked as IPv4). */
export class CidrSet {
  private readonly list = new net.BlockList();

  constructor(blocks: readonly string[]) {
    for (const block of blocks) {
      const cidr = parseCidr(block);
      if (cidr) this.list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    }
  }

  has(address: string | null): boolean {
    if (!address) return false;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const ip = mapped ?? address;
    const family = net.isIPv4(ip) ? 'ipv4' : net.isIPv6(ip) ? 'ipv6' : null;
    return family !== null && this.list.check(ip, family);
  }
}
