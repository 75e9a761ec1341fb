import { createPrivateKey } from 'node:crypto';
import { z } from 'zod';
import type { ConnectorConfig } from '../contract.js';

/** The API version the connector speaks when the config names none (Winter '25). */
export const DEFAULT_API_VERSION = '62.0';

/** The config of a Salesforce org, as `connectApp` stores it. */
export interface SalesforceConfig {
  /** The org's My Domain URL (https://<domain>.my.salesforce.com): every API request goes there. */
  readonly instanceUrl: string;
  /** Where JWT bearer tokens are asked for and the assertion's audience: https://login.salesforce.com, https://test.salesforce.com (sandboxes) or the My Domain URL. */
  readonly loginUrl: string;
  /** The connected app's consumer key. */
  readonly consumerKey: string;
  /** The JWT bearer flow: the private key (PEM) of the certificate uploaded to the connected app, and the integration user it signs in as. */
  readonly privateKeyPem?: string;
  readonly username?: string;
  /** The client credentials flow, where the org enables it for the connected app (its run-as user is the integration user). */
  readonly consumerSecret?: string;
  /** The REST API version, e.g. "62.0". */
  readonly apiVersion: string;
  /** The org's daily API request limit, until Salesforce reports it on an answer (`Sforce-Limit-Info`). */
  readonly dailyRequestLimit: number;
  /** The request rate Tenantwatch keeps to (Salesforce has no per-minute limit; this spreads the daily quota). */
  readonly rateLimitPerMinute: number;
  /** The org's id (00D…, 15 or 18 characters): outbound messages from another org are refused. */
  readonly organizationId?: string;
}

const httpsUrl = z
  .string({ error: 'must be an https URL' })
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return parsed.protocol === 'https:' && parsed.search === '' && parsed.hash === '';
    } catch {
      return false;
    }
  }, 'must be an https URL without a query, e.g. https://acme.my.salesforce.com')
  .transform((value) => value.replace(/\/+$/, ''));

const Schema = z
  .object({
    instanceUrl: httpsUrl,
    loginUrl: httpsUrl.default('https://login.salesforce.com'),
    consumerKey: z.string({ error: 'required: the connected app’s consumer key' }).min(1, 'must not be empty').max(256),
    privateKeyPem: z
      .string({ error: 'must be a PEM private key' })
      .refine((pem) => {
        try {
          return createPrivateKey(pem).asymmetricKeyType === 'rsa';
        } catch {
          return false;
        }
      }, 'must be an RSA private key in PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----)')
      .optional(),
    username: z
      .string({ error: 'must be the integration user’s username' })
      .regex(/^\S+@\S+$/, 'must be a Salesforce username (name@domain)')
      .optional(),
    consumerSecret: z.string({ error: 'must be a string' }).min(1, 'must not be empty').optional(),
    apiVersion: z
      .string({ error: 'must be an API version such as "62.0"' })
      .regex(/^\d{2,3}\.0$/, 'must be an API version such as "62.0"')
      .refine((v) => Number(v) >= 31, 'must be 31.0 or later (LoginHistory, EventLogFile and Files need it)')
      .default(DEFAULT_API_VERSION),
    dailyRequestLimit: z
      .number({ error: 'must be a positive whole number' })
      .int('must be a positive whole number')
      .positive('must be a positive whole number')
      .max(100_000_000)
      .default(15_000),
    rateLimitPerMinute: z.number({ error: 'must be a positive number' }).positive('must be a positive number').max(100_000).default(600),
    organizationId: z
      .string({ error: 'must be the org id (00D…)' })
      .regex(/^00D[a-zA-Z0-9]{12}([a-zA-Z0-9]{3})?$/, 'must be the org id: 15 or 18 characters starting with 00D')
      .optional(),
  })
  .strict()
  .superRefine((config, context) => {
    const jwt = config.privateKeyPem !== undefined || config.username !== undefined;
    const secret = config.consumerSecret !== undefined;
    if (jwt === secret)
      context.addIssue({
        code: 'custom',
        path: [secret ? 'consumerSecret' : 'privateKeyPem'],
        message: 'give privateKeyPem and username (JWT bearer flow) or consumerSecret (client credentials flow), not both',
      });
    else if (jwt && (config.privateKeyPem === undefined || config.username === undefined))
      context.addIssue({
        code: 'custom',
        path: [config.privateKeyPem === undefined ? 'privateKeyPem' : 'username'],
        message: 'the JWT bearer flow needs both privateKeyPem and username',
      });
  });

const ACCEPTED = Object.keys(Schema.shape).join(', ');

/** Checks a Salesforce org's config; the error names the field (`config.instanceUrl: must be ...`). */
export function validateSalesforceConfig(config: unknown): SalesforceConfig & ConnectorConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error(
      'config: must be an object { instanceUrl, consumerKey, privateKeyPem and username (or consumerSecret), loginUrl?, apiVersion? }',
    );
  const parsed = Schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    if (issue.code === 'unrecognized_keys') throw new Error(`config.${issue.keys.join(', ')}: unknown field; accepted: ${ACCEPTED}`);
    throw new Error(`config.${issue.path.join('.')}: ${issue.message}`);
  }
  return parsed.data;
}
