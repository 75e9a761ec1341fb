import { createHash, createSign, randomUUID, X509Certificate } from 'node:crypto';
import type { ConnectorCredentials, TokenHttp } from '../contract.js';
import { ClientCredentialsTokens } from '../credentials.js';
import { hostsOf, type M365Config } from './config.js';

/**
 * A client assertion for a certificate credential: a JWT signed with the certificate's private key,
 * naming the certificate by its SHA-256 thumbprint, for the token endpoint as audience, valid ten
 * minutes (https://learn.microsoft.com/en-us/entra/identity-platform/certificate-credentials).
 */
export function clientAssertion(
  certificatePem: string,
  privateKeyPem: string,
  clientId: string,
  tokenUrl: string,
  now = Date.now(),
): string {
  const der = new X509Certificate(certificatePem).raw;
  const header = { alg: 'RS256', typ: 'JWT', 'x5t#S256': createHash('sha256').update(der).digest('base64url') };
  const seconds = Math.floor(now / 1000);
  const claims = { aud: tokenUrl, iss: clientId, sub: clientId, jti: randomUUID(), nbf: seconds, iat: seconds, exp: seconds + 600 };
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createSign('RSA-SHA256').update(body).sign(privateKeyPem, 'base64url')}`;
}

/**
 * App-only tokens for Microsoft Graph from the Microsoft identity platform's v2.0 token endpoint
 * (OAuth 2.0 client credentials, https://learn.microsoft.com/en-us/entra/identity-platform/v2-oauth2-client-creds-grant-flow),
 * with a client secret or a certificate assertion, for the `.default` scope of the cloud's Graph and
 * (service `activity`) of its Office 365 Management APIs.
 */
export function m365Credentials(config: M365Config, tokens: TokenHttp): ConnectorCredentials {
  const { authorityHost, graphEndpoint, managementEndpoint } = hostsOf(config);
  const tokenUrl = `${authorityHost}/${config.tenantId}/oauth2/v2.0/token`;
  const certificate = config.certificate;
  return new ClientCredentialsTokens(
    {
      tokenUrl,
      clientId: config.clientId,
      clientAuth: certificate
        ? { assertion: async () => clientAssertion(certificate.certificatePem, certificate.privateKeyPem, config.clientId, tokenUrl) }
        : { secret: config.clientSecret! },
      // The Management Activity API is a resource of its own: its token carries its permissions (ActivityFeed.Read).
      scopes: { default: `${graphEndpoint}/.default`, ...(managementEndpoint ? { activity: `${managementEndpoint}/.default` } : {}) },
    },
    tokens,
  );
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
