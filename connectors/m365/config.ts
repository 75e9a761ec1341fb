import { z } from 'zod';
import type { ConnectorConfig } from '../contract.js';

/**
 * The hosts of each Microsoft cloud (https://learn.microsoft.com/en-us/graph/deployments) and its
 * Office 365 Management Activity API (https://learn.microsoft.com/en-us/office/office-365-management-api/office-365-management-activity-api-reference:
 * Enterprise, GCC High; the reference names none for the China cloud, so file activity is not read there
 * unless `managementEndpoint` is given).
 */
export const CLOUDS = {
  global: {
    authorityHost: 'https://login.microsoftonline.com',
    graphEndpoint: 'https://graph.microsoft.com',
    managementEndpoint: 'https://manage.office.com',
  },
  usgov: {
    authorityHost: 'https://login.microsoftonline.us',
    graphEndpoint: 'https://graph.microsoft.us',
    managementEndpoint: 'https://manage.office365.us',
  },
  china: {
    authorityHost: 'https://login.chinacloudapi.cn',
    graphEndpoint: 'https://microsoftgraph.chinacloudapi.cn',
    managementEndpoint: null,
  },
} as const;

/** The config of a Microsoft 365 instance, as `connectApp` stores it. */
export interface M365Config {
  /** The Entra ID tenant (directory) id, a GUID. */
  readonly tenantId: string;
  /** The app registration's application (client) id. */
  readonly clientId: string;
  /** A client secret, or instead a certificate credential. */
  readonly clientSecret?: string;
  readonly certificate?: { readonly certificatePem: string; readonly privateKeyPem: string };
  readonly cloud: keyof typeof CLOUDS;
  /** Explicit hosts (a national cloud not listed, or an emulator); both or neither. */
  readonly authorityHost?: string;
  readonly graphEndpoint?: string;
  /** The Office 365 Management Activity API's host (GCC: https://manage-gcc.office.com, DoD: https://manage.protection.apps.mil, an emulator). */
  readonly managementEndpoint?: string;
  /** The Management Activity API's PublisherIdentifier: the tenant id of the organisation running Tenantwatch, for a throttling quota of its own. */
  readonly publisherIdentifier?: string;
  /** The folder, at the root of each document library, that quarantined files are moved to (admin-only access is set up by the admin). */
  readonly quarantineFolder: string;
  /** The clientState every change notification must carry (a secret of 16 to 128 characters). */
  readonly clientState?: string;
  /** The request rate Tenantwatch keeps to per Graph service (directory, audit, files: a budget each), default 1,200 per minute. */
  readonly rateLimitPerMinute: number;
}

const url = z
  .string({ error: 'must be an http(s) URL' })
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return parsed.protocol === 'https:' || parsed.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL')
  .transform((value) => value.replace(/\/+$/, ''));

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const Schema = z
  .object({
    tenantId: z.string({ error: 'required: the directory (tenant) id, a GUID' }).regex(GUID, 'must be the directory (tenant) id, a GUID'),
    clientId: z
      .string({ error: 'required: the application (client) id, a GUID' })
      .regex(GUID, 'must be the application (client) id, a GUID'),
    clientSecret: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
    certificate: z
      .object({
        certificatePem: z
          .string({ error: 'required: the certificate (PEM)' })
          .includes('BEGIN CERTIFICATE', { message: 'must be a PEM certificate' }),
        privateKeyPem: z
          .string({ error: 'required: the private key (PEM)' })
          .includes('PRIVATE KEY', { message: 'must be a PEM private key' }),
      })
      .strict()
      .optional(),
    cloud: z.enum(['global', 'usgov', 'china'], { error: 'must be global, usgov or china' }).default('global'),
    authorityHost: url.optional(),
    graphEndpoint: url.optional(),
    managementEndpoint: url.optional(),
    publisherIdentifier: z.string({ error: 'must be a GUID' }).regex(GUID, 'must be your organisation’s tenant id, a GUID').optional(),
    quarantineFolder: z
      .string()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .regex(/^[^/\\:*?"<>|]+$/, 'must be a folder name without / \\ : * ? " < > |')
      .default('Tenantwatch Quarantine'),
    clientState: z
      .string({ error: 'must be a string' })
      .min(16, 'must be 16 to 128 characters')
      .max(128, 'must be 16 to 128 characters')
      .optional(),
    rateLimitPerMinute: z.number({ error: 'must be a positive number' }).positive('must be a positive number').max(100_000).default(1200),
  })
  .strict()
  .superRefine((config, context) => {
    if ((config.clientSecret === undefined) === (config.certificate === undefined))
      context.addIssue({ code: 'custom', path: ['clientSecret'], message: 'give a client secret or a certificate (exactly one)' });
    if ((config.authorityHost === undefined) !== (config.graphEndpoint === undefined))
      context.addIssue({
        code: 'custom',
        path: [config.authorityHost === undefined ? 'authorityHost' : 'graphEndpoint'],
        message: 'give authorityHost and graphEndpoint together',
      });
  });

const ACCEPTED = Object.keys(Schema.shape).join(', ');

/** Checks a Microsoft 365 instance's config; the error names the field (`config.tenantId: must be ...`). */
export function validateM365Config(config: unknown): M365Config & ConnectorConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error(
      'config: must be an object { tenantId, clientId, clientSecret (or certificate), cloud?, quarantineFolder?, clientState? }',
    );
  const parsed = Schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new Error(`config.${issue.keys.join(', ')}: unknown field; accepted: ${ACCEPTED}`);
    throw new Error(`config.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}

/**
 * The hosts an instance talks to. `managementEndpoint` is null where file activity cannot be read: a
 * cloud without a documented Management Activity API host, or explicit hosts without one.
 */
export function hostsOf(config: M365Config): { authorityHost: string; graphEndpoint: string; managementEndpoint: string | null } {
  const hosts =
    config.authorityHost && config.graphEndpoint
      ? { authorityHost: config.authorityHost, graphEndpoint: config.graphEndpoint, managementEndpoint: null }
      : CLOUDS[config.cloud];
  return { ...hosts, managementEndpoint: config.managementEndpoint ?? hosts.managementEndpoint };
}
