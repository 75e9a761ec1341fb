import type { GovernanceActionType } from '../../platform/governance/actions.js';

/**
 * What the graph must hold for an instance, read from the provider's (or emulator's) own ground
 * truth and put in the graph's terms: provider ids, statuses and sharing levels.
 */
export interface ExpectedGraph {
  readonly accounts: readonly { readonly externalId: string; readonly status: string }[];
  readonly groups: readonly { readonly externalId: string; readonly members: readonly string[] }[];
  readonly files: readonly { readonly externalId: string }[];
  readonly appPermissions: readonly { readonly externalId: string }[];
  /** Ids of every audit event that occurred since the backfill began (late ones included). */
  readonly activities: readonly string[];
}

export type ItemKind = 'user' | 'file' | 'grant';

/**
 * One connector under conformance test, with the emulator it runs against: how to connect it, the
 * emulator's ground truth and the knobs the suite turns (tokens, throttling, late events, deletions,
 * changes). A new connector is added by writing one of these and passing the suite.
 */
export interface ConformanceTarget {
  /** `connectApp`'s provider. */
  readonly provider: string;
  /** The `connectApp` config that points the connector at the emulator. */
  config(): Record<string, unknown>;
  /** Environment the scheduler process needs to reach the emulator (e.g. a CA to trust). */
  readonly schedulerEnv?: Readonly<Record<string, string>>;
  /** Wiring once the instance is connected and the scheduler's webhook receiver runs, e.g. where the emulator sends change notifications. */
  afterConnect(instanceId: string, webhookBaseUrl: string): Promise<void>;
  /** The emulator's ground truth in the graph's terms. */
  expected(): Promise<ExpectedGraph>;
  /** Throttles a share of the API requests (429 with Retry-After), or stops it (0). */
  setThrottleRate(rate: number): Promise<void>;
  /** 429 answers the emulator has sent so far. */
  throttled(): Promise<number>;
  /** Makes every access token issued so far invalid now (as an expiry the connector did not expect). */
  expireTokens(): Promise<void>;
  /** Refuses new tokens from now on (a revoked client secret), or accepts them again. */
  refuseTokens(refuse: boolean): Promise<void>;
  /** Audit events that happen now and become visible up to `lateMs` later, in no particular order; answers their ids. */
  lateEvents(count: number, lateMs: number): Promise<string[]>;
  /**
   * Audit events that occurred `agoMs` ago (hours) and become visible only now, beyond the activity
   * scan's lag and overlap but within the provider's documented maximum lag; answers their ids.
   */
  pastEvents(count: number, agoMs: number): Promise<string[]>;
  /** Deletes one live item of `kind` at the emulator (not a governance action); answers its provider id. */
  deleteOne(kind: ItemKind): Promise<string>;
  /**
   * For a provider that cannot delete users (Salesforce deactivates them, never deletes): the account
   * status `deleteOne('user')` leaves in the graph, instead of the account gone.
   */
  readonly deletedUserStatus?: string;
  /** Changes a file's content at the emulator, which notifies the subscriber; answers its provider id. */
  changeFile(): Promise<string>;
  /**
   * For a provider whose change subscriptions Tenantwatch keeps (Graph): the provider's own list of
   * them, and its knobs. Absent where the provider is configured to push by an admin (the simulator).
   */
  readonly subscriptions?: {
    /** Subscriptions to `url`, as the provider lists them. */
    list(url: string): Promise<readonly { readonly expiresAt: string; readonly reauthorizationRequired: boolean }[]>;
    /** How many a connected instance needs (one per document library). */
    expected(): Promise<number>;
    /** The provider asks for reauthorization (lifecycle notifications) and pauses notifications until it happens. */
    requireReauthorization(): Promise<void>;
    /** The provider ends every subscription without notice (expired, lost). */
    drop(): Promise<void>;
  };
  /** The governance actions the connector supports. */
  readonly governance: readonly GovernanceActionType[];
  /** How many times the emulator applied `action` to the item with provider id `externalId` (its own records). */
  applied(action: GovernanceActionType, externalId: string): Promise<number>;
  stop(): Promise<void>;
}
