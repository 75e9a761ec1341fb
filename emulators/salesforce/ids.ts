import { createHash } from 'node:crypto';

/**
 * Salesforce record ids: a 3-character key prefix naming the object, then the instance, a reserved
 * character and a base-62 sequence (15 characters, case-sensitive), and 3 more characters encoding the
 * case of the first 15 (18 characters, case-insensitive): https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm#i1435616
 */
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const SUFFIX = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345';
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[A-Z0-5]{3})?$/i;

/** The 3-character suffix of an 18-character id: one character per 5, saying which of them are upper case. */
export function checksumSuffix(id15: string): string {
  let suffix = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0;
    for (let k = 0; k < 5; k++) {
      const c = id15.charCodeAt(chunk * 5 + k);
      if (c >= 65 && c <= 90) bits |= 1 << k;
    }
    suffix += SUFFIX[bits];
  }
  return suffix;
}

/**
 * The canonical 18-character id of a 15- or 18-character one (an 18-character id in any case is
 * restored from its suffix, as Salesforce accepts it), or null when it is not shaped like an id.
 */
export function canonicalId(id: string): string | null {
  if (!ID_SHAPE.test(id)) return null;
  if (id.length === 15) return id + checksumSuffix(id);
  const suffix = id.slice(15).toUpperCase();
  let restored = '';
  for (let chunk = 0; chunk < 3; chunk++) {
    const bits = SUFFIX.indexOf(suffix[chunk]!);
    for (let k = 0; k < 5; k++) {
      const c = id[chunk * 5 + k]!;
      restored += bits & (1 << k) ? c.toUpperCase() : c.toLowerCase();
    }
  }
  return restored + checksumSuffix(restored);
}

/**
 * Key prefixes of the objects the emulator serves, as Salesforce's ids show them ("Standard Field Record
 * ID Prefix Decoder", https://help.salesforce.com/s/articleView?id=000385203&type=1).
 */
export const KEY_PREFIXES = {
  Organization: '00D',
  User: '005',
  UserLogin: '060',
  Profile: '00e',
  UserRole: '00E',
  PermissionSet: '0PS',
  PermissionSetAssignment: '0Pa',
  Group: '00G',
  GroupMember: '011',
  LoginGeo: '04F',
  LoginHistory: '0Ya',
  SetupAuditTrail: '0Ym',
  EventLogFile: '0AT',
  OauthToken: '0CQ',
  ConnectedApplication: '0H4',
  AppMenuItem: '0DS',
  ContentDocument: '069',
  ContentVersion: '068',
  ContentDocumentLink: '06A',
  ContentDistribution: '05H',
  QueryLocator: '01g',
} as const;
export type KeyPrefixed = keyof typeof KEY_PREFIXES;

/** The object an id names, by its key prefix. */
export function objectOfId(id: string): KeyPrefixed | undefined {
  const prefix = id.slice(0, 3);
  return (Object.keys(KEY_PREFIXES) as KeyPrefixed[]).find((name) => KEY_PREFIXES[name] === prefix);
}

function base62(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let k = 0; k < width; k++) {
    out = BASE62[rest % 62] + out;
    rest = Math.floor(rest / 62);
  }
  return out;
}

/**
 * Makes one org's ids: each object's sequence starts in a range of the org's own (from a digest of the
 * org id), so two orgs never share an id; within an object, ids sort by creation as Salesforce's do.
 */
export class IdFactory {
  private readonly instance: string;
  private readonly base: number;
  private readonly counters = new Map<string, number>();

  constructor(organizationId: string) {
    this.instance = organizationId.slice(3, 5);
    const digest = createHash('sha256').update(organizationId).digest();
    // The org's range starts at a multiple of 62^5 (≈ 9.2e8 ids per object), below 62^8 (exact in a double).
    this.base = (digest.readUInt32BE(0) % 62 ** 3) * 62 ** 5;
  }

  next(object: KeyPrefixed): string {
    const prefix = KEY_PREFIXES[object];
    const n = (this.counters.get(prefix) ?? 0) + 1;
    this.counters.set(prefix, n);
    const id15 = `${prefix}${this.instance}0${base62(this.base + n, 9)}`;
    return id15 + checksumSuffix(id15);
  }
}
