import { z } from 'zod';
import {
  CursorExpiredError,
  ProviderError,
  type Capability,
  type ChangePage,
  type ChangeSubscriptions,
  type Connector,
  type ConnectorConfig,
  type ConnectorCredentials,
  type ConnectorFactory,
  type FileContent,
  type Page,
  type PageToken,
  type PermissionReport,
  type ProviderFile,
  type ProviderGrant,
  type ProviderHttp,
  type ProviderLimits,
  type ProviderRequest,
  type ProviderResponseHead,
  type ProviderUser,
  type ThrottleSignal,
  type TimeWindow,
  type TokenHttp,
  type VerifiedWebhook,
  type WebhookDelivery,
} from '../contract.js';
import { ClientCredentialsTokens, StaticTokenCredentials } from '../credentials.js';
import { validateSimulatedConfig, type SimulatedConfig } from './connector-config.js';
import { parseAnswer, toEvent, toFile, toGrant, toGroup, toUser } from './mapping.js';
import { simulatedSubscriptions } from './subscription-client.js';
import { parseSimulatorThrottle } from './throttle.js';
import { verifySimulatorDelivery } from './webhook-verify.js';
import { WireChangePage, WireEvent, WireFile, WireGrant, WireGroup, WireMe, WireMember, WireUser, wireList } from './wire.js';

/** The connector to the simulated SaaS provider (connectors/simulated/server.ts). */

export const SIMULATED_PROVIDER = 'simulated';

export const SIMULATED_CAPABILITIES: readonly Capability[] = [
  'ACCOUNT_INFO',
  'AUDIT_TRAIL',
  'ACCOUNT_GOVERNANCE',
  'APP_PERMISSIONS',
  'APP_PERMISSION_GOVERNANCE',
  'DATA_SCAN',
  'DATA_GOVERNANCE',
];

/** The token permissions each capability needs. */
export const PERMISSIONS_FOR: Readonly<Record<Capability, readonly string[]>> = {
  ACCOUNT_INFO: ['users.read', 'groups.read'],
  AUDIT_TRAIL: ['audit.read'],
  ACCOUNT_GOVERNANCE: ['users.write'],
  APP_PERMISSIONS: ['grants.read'],
  APP_PERMISSION_GOVERNANCE: ['grants.write'],
  DATA_SCAN: ['files.read'],
  DATA_GOVERNANCE: ['files.write'],
};

const DEFAULT_REQUESTS_PER_MINUTE = 600;
const DEFAULT_MAX_PAGE_SIZE = 200;

/** The capabilities `granted` allows, and the permissions missing for the others. */
export function capabilitiesOf(granted: readonly string[]): { capabilities: Capability[]; missingPermissions: string[] } {
  const has = new Set(granted);
  const capabilities = SIMULATED_CAPABILITIES.filter((c) => PERMISSIONS_FOR[c].every((p) => has.has(p)));
  const missingPermissions = [...new Set(SIMULATED_CAPABILITIES.flatMap((c) => PERMISSIONS_FOR[c]).filter((p) => !has.has(p)))].sort();
  return { capabilities, missingPermissions };
}

const segment = encodeURIComponent;

class SimulatedConnector implements Connector {
  readonly provider = SIMULATED_PROVIDER;
  readonly capabilities = SIMULATED_CAPABILITIES;
  readonly limits: ProviderLimits;
  /** The simulated provider documents events up to 6 hours late (its README, "Audit trail"). */
  readonly maxAuditLagMs = 6 * 3_600_000;
  readonly subscriptions: ChangeSubscriptions;

  constructor(
    private readonly config: SimulatedConfig,
    private readonly http: ProviderHttp,
  ) {
    this.subscriptions = simulatedSubscriptions(http, config.webhookSecret);
    this.limits = {
      requestsPerMinute: config.rateLimitPerMinute ?? DEFAULT_REQUESTS_PER_MINUTE,
      maxPageSize: config.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE,
    };
  }

  private async call<S extends z.ZodType>(schema: S, request: ProviderRequest): Promise<z.output<S>> {
    const response = await this.http.request(request);
    return parseAnswer(schema, response.body, `${request.method} ${request.path}`);
  }

  private async list<S extends z.ZodType, T>(
    path: string,
    item: S,
    map: (wire: z.output<S>) => T,
    page: PageToken | null,
    query: ProviderRequest['query'] = {},
  ): Promise<Page<T>> {
    const answer = await this.call(wireList(item), {
      method: 'GET',
      path,
      query: { ...query, limit: this.limits.maxPageSize, pageToken: page ?? undefined },
    });
    return { items: answer.items.map((wire) => map(wire as z.output<S>)), next: answer.nextPageToken };
  }

  /** Answers null for a 404 (the thing is gone), rethrows anything else. */
  private async orNull<T>(read: () => Promise<T>): Promise<T | null> {
    try {
      return await read();
    } catch (error) {
      if (error instanceof ProviderError && error.status === 404) return null;
      throw error;
    }
  }

  /** A governance call: the simulator answers the changed record. */
  private async act<S extends z.ZodType, T>(
    schema: S,
    map: (wire: z.output<S>) => T,
    method: 'POST' | 'DELETE',
    path: string,
    body?: unknown,
  ): Promise<T> {
    return map(await this.call(schema, { method, path, ...(body === undefined ? {} : { body }) }));
  }

  async verify(): Promise<PermissionReport> {
    const me = await this.call(WireMe, { method: 'GET', path: '/api/v1/me' });
    return { grantedPermissions: me.permissions, ...capabilitiesOf(me.permissions), tenantId: me.tenantId, tenantName: me.name };
  }

  listUsers(page: PageToken | null) {
    return this.list('/api/v1/users', WireUser, toUser, page);
  }

  listGroups(page: PageToken | null) {
    return this.list('/api/v1/groups', WireGroup, toGroup, page);
  }

  listGroupMembers(groupExternalId: string, page: PageToken | null) {
    return this.list(`/api/v1/groups/${segment(groupExternalId)}/members`, WireMember, (m) => m.userId, page);
  }

  listGrants(page: PageToken | null) {
    return this.list('/api/v1/oauth-grants', WireGrant, toGrant, page);
  }

  readAuditEvents(window: TimeWindow, page: PageToken | null) {
    return this.list('/api/v1/audit/events', WireEvent, toEvent, page, { from: window.from.toISOString(), to: window.to.toISOString() });
  }

  listFiles(page: PageToken | null) {
    return this.list('/api/v1/files', WireFile, toFile, page);
  }

  async readFileChanges(cursor: string | null, page: PageToken | null): Promise<ChangePage> {
    let answer: z.output<typeof WireChangePage>;
    try {
      answer = await this.call(WireChangePage, {
        method: 'GET',
        path: '/api/v1/files/changes',
        query: { cursor: cursor ?? undefined, pageToken: page ?? undefined, limit: this.limits.maxPageSize },
      });
    } catch (error) {
      // Whatever client is in use, a 410 here means the feed must be rebuilt from a full listing.
      if (error instanceof ProviderError && error.status === 410 && !(error instanceof CursorExpiredError))
        throw new CursorExpiredError(error.message, 410);
      throw error;
    }
    return {
      changes: answer.items.map((c) =>
        c.type === 'file.upsert' ? { kind: 'upsert' as const, file: toFile(c.file) } : { kind: 'deleted' as const, externalId: c.fileId },
      ),
      next: answer.nextPageToken,
      deltaCursor: answer.deltaCursor,
    };
  }

  async downloadFile(externalId: string): Promise<FileContent> {
    const response = await this.http.request({ method: 'GET', path: `/api/v1/files/${segment(externalId)}/content` });
    const type = response.headers.get('content-type');
    return { bytes: response.bytes, mimeType: type ? type.split(';')[0]!.trim() : null };
  }

  getUser(externalId: string): Promise<ProviderUser | null> {
    return this.orNull(async () => toUser(await this.call(WireUser, { method: 'GET', path: `/api/v1/users/${segment(externalId)}` })));
  }

  getFile(externalId: string): Promise<ProviderFile | null> {
    return this.orNull(async () => toFile(await this.call(WireFile, { method: 'GET', path: `/api/v1/files/${segment(externalId)}` })));
  }

  getGrant(externalId: string): Promise<ProviderGrant | null> {
    return this.orNull(async () =>
      toGrant(await this.call(WireGrant, { method: 'GET', path: `/api/v1/oauth-grants/${segment(externalId)}` })),
    );
  }

  suspendUser(externalId: string) {
    return this.act(WireUser, toUser, 'POST', `/api/v1/users/${segment(externalId)}/suspend`);
  }

  unsuspendUser(externalId: string) {
    return this.act(WireUser, toUser, 'POST', `/api/v1/users/${segment(externalId)}/unsuspend`);
  }

  requirePasswordReset(externalId: string) {
    return this.act(WireUser, toUser, 'POST', `/api/v1/users/${segment(externalId)}/reset-password`);
  }

  revokeGrant(externalId: string) {
    return this.act(WireGrant, toGrant, 'DELETE', `/api/v1/oauth-grants/${segment(externalId)}`);
  }

  quarantineFile(externalId: string) {
    return this.act(WireFile, toFile, 'POST', `/api/v1/files/${segment(externalId)}/quarantine`);
  }

  restoreFile(externalId: string) {
    return this.act(WireFile, toFile, 'POST', `/api/v1/files/${segment(externalId)}/restore`);
  }

  trashFile(externalId: string) {
    return this.act(WireFile, toFile, 'POST', `/api/v1/files/${segment(externalId)}/trash`);
  }

  removeExternalSharing(externalId: string) {
    return this.act(WireFile, toFile, 'POST', `/api/v1/files/${segment(externalId)}/remove-external-sharing`);
  }

  overwriteFile(externalId: string, notice: string) {
    return this.act(WireFile, toFile, 'POST', `/api/v1/files/${segment(externalId)}/overwrite`, { notice });
  }

  parseThrottle(response: ProviderResponseHead): ThrottleSignal {
    return parseSimulatorThrottle(response);
  }

  verifyWebhook(delivery: WebhookDelivery, now: Date = new Date()): VerifiedWebhook {
    return verifySimulatorDelivery(this.config.webhookSecret, delivery, now);
  }
}

/** A fixed token, or an OAuth client whose tokens come from the simulator's token endpoint (`POST /oauth/token`). */
export function simulatedCredentials(config: SimulatedConfig, tokens: TokenHttp): ConnectorCredentials {
  if (config.token !== undefined) return new StaticTokenCredentials(config.token);
  return new ClientCredentialsTokens(
    { tokenUrl: `${config.endpoint}/oauth/token`, clientId: config.clientId!, clientAuth: { secret: config.clientSecret! } },
    tokens,
  );
}

/** The simulated provider's connector factory: all seven capabilities, config `{ endpoint, token or clientId and clientSecret, webhookSecret? }`. */
export const simulatedConnectorFactory: ConnectorFactory = {
  provider: SIMULATED_PROVIDER,
  capabilities: SIMULATED_CAPABILITIES,
  name: 'Simulated SaaS provider',
  documentationUrl: 'connectors/simulated/README.md',
  configFields: [
    {
      name: 'endpoint',
      label: 'Endpoint',
      secret: false,
      required: true,
      description: 'The provider’s base URL, e.g. http://127.0.0.1:4900',
    },
    {
      name: 'token',
      label: 'API token',
      secret: true,
      required: false,
      description: 'A fixed API token (or give an OAuth client instead)',
    },
    {
      name: 'clientId',
      label: 'OAuth client id',
      secret: false,
      required: false,
      description: 'An OAuth client whose access tokens expire (with clientSecret)',
    },
    { name: 'clientSecret', label: 'OAuth client secret', secret: true, required: false, description: 'The OAuth client’s secret' },
    { name: 'webhookSecret', label: 'Webhook secret', secret: true, required: false, description: 'Signs the provider’s change webhooks' },
    {
      name: 'rateLimitPerMinute',
      valueType: 'NUMBER',
      label: 'Requests per minute',
      secret: false,
      required: false,
      description: 'The tenant’s documented limit (default 600)',
    },
    {
      name: 'maxPageSize',
      valueType: 'NUMBER',
      label: 'Largest page',
      secret: false,
      required: false,
      description: 'The tenant’s largest page (default 200)',
    },
  ],
  requiredPermissions: Object.fromEntries(
    Object.entries(PERMISSIONS_FOR).map(([capability, permissions]) => [capability, permissions.map((p) => [p])]),
  ),
  validateConfig: validateSimulatedConfig,
  endpointOf: (config: ConnectorConfig) => validateSimulatedConfig(config).endpoint,
  credentials: (config: ConnectorConfig, tokens: TokenHttp) => simulatedCredentials(validateSimulatedConfig(config), tokens),
  create: (config: ConnectorConfig, http: ProviderHttp) => new SimulatedConnector(validateSimulatedConfig(config), http),
};
