import { z } from 'zod';
import type { ConnectorConfig } from '../contract.js';

/** The config of a simulated instance, as `connectApp` stores it. */
export interface SimulatedConfig {
  /** The simulator's base URL, e.g. `http://127.0.0.1:4900` (no trailing slash). */
  readonly endpoint: string;
  /** The tenant's API token (a fixed token), or, instead, `clientId` and `clientSecret`. */
  readonly token?: string;
  /** An OAuth client of the tenant: access tokens come from the simulator's token endpoint and expire. */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** The tenant's webhook secret; without it every webhook delivery is rejected. */
  readonly webhookSecret?: string;
  /** The tenant's documented limit (default 600 per minute). */
  readonly rateLimitPerMinute?: number;
  /** The tenant's largest page (default 200). */
  readonly maxPageSize?: number;
}

const isHttpUrl = (value: string): boolean => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
};

const ConfigSchema = z
  .object({
    endpoint: z
      .string({ error: 'must be an http(s) URL' })
      .refine(isHttpUrl, 'must be an http(s) URL')
      .transform((s) => s.replace(/\/+$/, '')),
    token: z
      .string({ error: 'must be a non-empty string (the tenant API token)' })
      .min(1, 'must be a non-empty string (the tenant API token)')
      .optional(),
    clientId: z
      .string({ error: 'must be a non-empty string (the OAuth client id)' })
      .min(1, 'must be a non-empty string (the OAuth client id)')
      .optional(),
    clientSecret: z
      .string({ error: 'must be a non-empty string (the OAuth client secret)' })
      .min(1, 'must be a non-empty string (the OAuth client secret)')
      .optional(),
    webhookSecret: z.string({ error: 'must be a non-empty string' }).min(1, 'must be a non-empty string').optional(),
    rateLimitPerMinute: z.number({ error: 'must be a positive number' }).positive('must be a positive number').optional(),
    maxPageSize: z
      .int({ error: 'must be an integer from 1 to 10000' })
      .min(1, 'must be an integer from 1 to 10000')
      .max(10_000, 'must be an integer from 1 to 10000')
      .optional(),
  })
  .strict()
  .superRefine((config, context) => {
    const oauth = config.clientId !== undefined || config.clientSecret !== undefined;
    if (config.token === undefined && !oauth) {
      context.addIssue({ code: 'custom', path: ['token'], message: 'required: the tenant API token, or clientId and clientSecret' });
    } else if (config.token !== undefined && oauth) {
      context.addIssue({ code: 'custom', path: ['token'], message: 'give the API token or clientId and clientSecret, not both' });
    } else if (oauth && (config.clientId === undefined || config.clientSecret === undefined)) {
      context.addIssue({
        code: 'custom',
        path: [config.clientId === undefined ? 'clientId' : 'clientSecret'],
        message: 'required with the other: an OAuth client is clientId and clientSecret',
      });
    }
  });

/** Checks a simulated instance's config; throws an Error whose message names the bad field (`config.endpoint: must be an http(s) URL`). */
export function validateSimulatedConfig(config: unknown): SimulatedConfig & ConnectorConfig {
  if (typeof config !== 'object' || config === null || Array.isArray(config))
    throw new Error('config: must be an object { endpoint, token (or clientId and clientSecret), webhookSecret? }');
  const parsed = ConfigSchema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : issue.path.join('.');
    const message =
      issue.code === 'unrecognized_keys'
        ? 'unknown field; accepted: endpoint, token, clientId, clientSecret, webhookSecret, rateLimitPerMinute, maxPageSize'
        : issue.message;
    throw new Error(`config.${field}: ${message}`);
  }
  return parsed.data;
}
