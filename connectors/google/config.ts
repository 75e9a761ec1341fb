import { z } from 'zod';
import type { ConnectorConfig } from '../contract.js';

/** Google's endpoints (https://developers.google.com/identity/protocols/oauth2/service-account, the discovery documents' rootUrl). */
export const GOOGLE_ENDPOINTS = {
  tokenUrl: 'https://oauth2.googleapis.com/token',
  adminEndpoint: 'https://admin.googleapis.com',
  driveEndpoint: 'https://www.googleapis.com',
} as const;

/**
 * Per-minute quotas Google documents, as the budget's defaults: the Admin SDK's 2,400 queries per
 * minute per user per project (https://developers.google.com/admin-sdk/directory/v1/limits; every
 * Directory and Reports call acts as the admin subject, so that user's quota is the one spent) and
 * Drive's 12,000 queries per minute per project (https://developers.google.com/drive/api/guides/limits).
 */
export const DEFAULT_QUOTAS = { directory: 2400, reports: 2400, drive: 12_000 } as const;

/** The parts of a service account key (its JSON key file) Tenantwatch uses. */
export interface ServiceAccountKey {
  readonly client_email: string;
  readonly private_key: string;
  /** The numeric client id the admin authorizes for domain-wide delegation. */
  readonly client_id: string;
  readonly token_uri?: string;
}

/** The config of a Google Workspace instance, as `connectApp` stores it. */
export interface GoogleConfig {
  /** The service account's JSON key (the object, or its text). */
  readonly serviceAccountKey: ServiceAccountKey;
  /** A super administrator the service account acts as for the Admin SDK (and whose Drive holds the quarantine folder). */
  readonly adminSubject: string;
  /** The Workspace customer id (`my_customer`: the admin's own). */
  readonly customerId: string;
  /** Domains of the organization besides the admin's (secondary domains): sharing with them is not external. */
  readonly domains: readonly string[];
  /** Endpoints: Google's unless given (an emulator, a proxy). */
  readonly tokenUrl: string;
  readonly adminEndpoint: string;
  readonly driveEndpoint: string;
  /** Requests per minute Tenantwatch keeps to per API. */
  readonly quotas: { readonly directory: number; readonly reports: number; readonly drive: number };
  /** The folder in the admin's My Drive that quarantined files are moved to. */
  readonly quarantineFolder: string;
  /** The largest page asked of each list (default: each API's largest; at most 500). */
  readonly pageSize?: number;
  /** The secret push notifications' channel token is derived from (default: derived from the private key). */
  readonly webhookSecret?: string;
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

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const KeySchema = z.object({
  type: z.literal('service_account', { error: 'must be "service_account" (a service account key)' }).optional(),
  client_email: z.string({ error: 'required: the service account’s email' }).regex(EMAIL, 'must be the service account’s email'),
  private_key: z
    .string({ error: 'required: the private key (PEM)' })
    .includes('PRIVATE KEY', { message: 'must be the key file’s PEM private key' }),
  client_id: z
    .string({ error: 'required: the numeric client id (Admin console: domain-wide delegation)' })
    .regex(/^\d{6,30}$/, 'must be the numeric client id'),
  token_uri: url.optional(),
});

const quota = z.number({ error: 'must be a positive number' }).positive('must be a positive number').max(1_000_000);

const Schema = z
  .object({
    serviceAccountKey: z.preprocess(
      (value) => {
        if (typeof value !== 'string') return value;
        try {
          return JSON.parse(value) as unknown;
        } catch {
          return value;
        }
      },
      z.object(KeySchema.shape, { error: 'required: the service account’s JSON key (the object or its text)' }),
    ),
    adminSubject: z.string({ error: 'required: a super administrator’s email' }).regex(EMAIL, 'must be a super administrator’s email'),
    customerId: z
      .string({ error: 'must be my_customer or a customer id such as C03az79cb' })
      .regex(/^(my_customer|C[0-9a-z]{6,12})$/, 'must be my_customer or a customer id such as C03az79cb')
      .default('my_customer'),
    domains: z
      .array(z.string().regex(/^[a-z0-9.-]+\.[a-z]{2,}$/i, 'must be domain names'), { error: 'must be a list of domain names' })
      .max(600, 'must be at most 600 domains')
      .default([]),
    tokenUrl: url.optional(),
    adminEndpoint: url.default(GOOGLE_ENDPOINTS.adminEndpoint),
    driveEndpoint: url.default(GOOGLE_ENDPOINTS.driveEndpoint),
    quotas: z
      .object({ directory: quota.optional(), reports: quota.optional(), drive: quota.optional() }, { error: 'must be an object' })
      .strict()
      .default({}),
    quarantineFolder: z
      .string({ error: 'must be a folder name' })
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters')
      .regex(/^[^/\\'"]+$/, 'must be a folder name without / \\ \' or "')
      .default('Tenantwatch Quarantine'),
    pageSize: z
      .int({ error: 'must be an integer from 1 to 500' })
      .min(1, 'must be an integer from 1 to 500')
      .max(500, 'must be an integer from 1 to 500')
      .optional(),
    webhookSecret: z
      .string({ error: 'must be a string' })
      .min(16, 'must be 16 to 256 characters')
      .max(256, 'must be 16 to 256 characters')
      .optional(),
  })
  .strict();

const ACCEPTED = Object.keys(Schema.shape).join(', ');

/** Checks a Google Workspace instance's config; the error names the field (`config.adminSubject: must be ...`). */
export function validateGoogleConfig(config: unknown): GoogleConfig & ConnectorConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error('config: must be an object { serviceAccountKey, adminSubject, customerId?, quarantineFolder?, quotas? }');
  const parsed = Schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') {
      const where = issue.path.length ? `${issue.path.join('.')}.` : '';
      const accepted = issue.path[0] === 'quotas' ? 'directory, reports, drive' : ACCEPTED;
      throw new Error(`config.${where}${issue.keys.join(', ')}: unknown field; accepted: ${accepted}`);
    }
    throw new Error(`config.${issue.path.join('.')}: ${issue.message}`);
  }
  const { serviceAccountKey, tokenUrl, quotas, ...rest } = parsed.data;
  return {
    ...rest,
    serviceAccountKey: {
      client_email: serviceAccountKey.client_email,
      private_key: serviceAccountKey.private_key,
      client_id: serviceAccountKey.client_id,
      ...(serviceAccountKey.token_uri ? { token_uri: serviceAccountKey.token_uri } : {}),
    },
    tokenUrl: tokenUrl ?? serviceAccountKey.token_uri ?? GOOGLE_ENDPOINTS.tokenUrl,
    quotas: { ...DEFAULT_QUOTAS, ...quotas },
  };
}

/** The organization's domains: the admin subject's and the ones the config adds, lower case. */
export function domainsOf(config: GoogleConfig): Set<string> {
  return new Set([config.adminSubject.slice(config.adminSubject.indexOf('@') + 1), ...config.domains].map((d) => d.toLowerCase()));
}
