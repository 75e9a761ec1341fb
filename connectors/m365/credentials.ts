import { createHash, X509Certificate } from 'node:crypto';
import {
  AuthError,
  ConfidentialClientApplication,
  LogLevel,
  ServerError,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { CredentialError, ProviderError, TransientError, type ConnectorCredentials, type TokenHttp } from '../contract.js';
import { TokenCache, type RenewableToken } from '../credentials.js';
import { CLOUDS, hostsOf, type M365Config } from './config.js';

/** A token used until this long before it expires (MSAL's own renewal offset is 5 minutes too). */
const RENEW_BEFORE_MS = 300_000;

/**
 * MSAL's network calls (instance discovery, the tenant's OpenID metadata, the token endpoint) through
 * Tenantwatch's token client: the outbound policy and its trusted authorities apply, a refusal or an
 * unreachable host is the typed failure the scheduler knows.
 */
function networkOf(tokens: TokenHttp, failures: { last?: ProviderError }): INetworkModule {
  const call = async <T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> => {
    try {
      const answer = await tokens.send(method, url, { headers: options?.headers, body: options?.body });
      return { status: answer.status, headers: { ...answer.headers }, body: answer.body as T };
    } catch (error) {
      if (error instanceof ProviderError) failures.last = error;
      throw error;
    }
  };
  return {
    sendGetRequestAsync: (url, options) => call('GET', url, options),
    sendPostRequestAsync: (url, options) => call('POST', url, options),
  };
}

/**
 * App-only tokens from the Microsoft identity platform with `@azure/msal-node`'s confidential client
 * (OAuth 2.0 client credentials: a client secret, or a certificate whose assertion MSAL signs and names
 * by its SHA-256 thumbprint): one token per resource — Graph's `.default` and (service `activity`) the
 * Office 365 Management APIs' — kept until five minutes before it expires, one acquisition at a time
 * per resource, and acquired anew (skipping MSAL's cache) after the provider refused it with a 401.
 * A refusal is a CredentialError with the HTTP status and the OAuth error code, never Entra's
 * description (MSAL's own log is silenced: it may name the tenant and client).
 */
export class M365Credentials implements ConnectorCredentials {
  private app?: ConfidentialClientApplication;
  private readonly scopes: Record<string, string>;
  private readonly tokens = new TokenCache();
  private readonly refused = new Set<string>();
  private readonly failures: { last?: ProviderError } = {};

  constructor(
    private readonly config: M365Config,
    private readonly http: TokenHttp,
  ) {
    const { graphEndpoint, managementEndpoint } = hostsOf(config);
    this.scopes = { default: `${graphEndpoint}/.default`, ...(managementEndpoint ? { activity: `${managementEndpoint}/.default` } : {}) };
  }

  private client(): ConfidentialClientApplication {
    if (this.app) return this.app;
    const { authorityHost } = hostsOf(this.config);
    const certificate = this.config.certificate;
    // Microsoft's clouds are known to MSAL; any other host (an emulator, a sovereign endpoint given
    // explicitly) is named as known, so that MSAL reads its OpenID metadata instead of asking Microsoft.
    const microsoft = Object.values(CLOUDS).some((cloud) => cloud.authorityHost === authorityHost);
    this.app = new ConfidentialClientApplication({
      auth: {
        clientId: this.config.clientId,
        authority: `${authorityHost}/${this.config.tenantId}`,
        ...(certificate
          ? {
              clientCertificate: {
                thumbprintSha256: createHash('sha256').update(new X509Certificate(certificate.certificatePem).raw).digest('hex'),
                privateKey: certificate.privateKeyPem,
              },
            }
          : { clientSecret: this.config.clientSecret! }),
        ...(microsoft ? {} : { knownAuthorities: [new URL(authorityHost).host] }),
      },
      system: {
        networkClient: networkOf(this.http, this.failures),
        loggerOptions: { logLevel: LogLevel.Error, piiLoggingEnabled: false, loggerCallback: () => undefined },
      },
    });
    return this.app;
  }

  private keyOf(service: string): string {
    return this.scopes[service] !== undefined ? service : 'default';
  }

  async headers(service = 'default'): Promise<Readonly<Record<string, string>>> {
    const key = this.keyOf(service);
    return { authorization: `Bearer ${await this.tokens.get(key, () => this.request(key))}` };
  }

  invalidate(service = 'default'): void {
    const key = this.keyOf(service);
    this.tokens.forget(key);
    this.refused.add(key);
  }

  private async request(key: string): Promise<RenewableToken> {
    const skipCache = this.refused.delete(key);
    this.failures.last = undefined;
    let result;
    try {
      result = await this.client().acquireTokenByClientCredential({ scopes: [this.scopes[key]!], skipCache });
    } catch (error) {
      throw this.failure(error);
    }
    if (!result?.accessToken) throw new CredentialError('The identity provider answered without an access token', 401);
    const expires = result.expiresOn?.getTime() ?? Date.now() + 3_600_000;
    // A token living less than twice the margin is used for half its life.
    const renewAt = Math.max(Date.now() + (expires - Date.now()) / 2, expires - RENEW_BEFORE_MS);
    return { token: result.accessToken, renewAt: Math.min(renewAt, expires) };
  }

  /** What a failed acquisition was, in Tenantwatch's words. */
  private failure(error: unknown): Error {
    if (this.failures.last) return this.failures.last;
    if (error instanceof ServerError) {
      const status = error.status ?? 400;
      if (status >= 500) return new TransientError(`The identity provider answered HTTP ${status}`, status);
      return new CredentialError(`The identity provider refused to issue an access token (HTTP ${status}: ${error.errorCode})`, 401);
    }
    if (error instanceof AuthError)
      return new CredentialError(`The identity provider's answer could not be used (${error.errorCode})`, 401);
    return error instanceof Error ? error : new Error(String(error));
  }
}

export function m365Credentials(config: M365Config, tokens: TokenHttp): ConnectorCredentials {
  return new M365Credentials(config, tokens);
}

/** The claims of a JWT access token, read without verifying it (Graph's tokens are for Graph to verify; the app only reads `roles`). */
export function accessTokenClaims(authorization: string | undefined): Record<string, unknown> {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1];
  const payload = token?.split('.')[1];
  if (!payload) return {};
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null ? (claims as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
