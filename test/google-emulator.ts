import { generateKeyPairSync } from 'node:crypto';
import { rootCertificates } from 'node:tls';
import { Agent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import {
  CredentialError,
  PermanentError,
  ThrottledError,
  TransientError,
  type Connector,
  type ConnectorCredentials,
  type ProviderHttp,
  type ProviderRequest,
  type ProviderResponse,
  type TokenHttp,
} from '../connectors/contract.js';
import { googleConnectorFactory as factory } from '../connectors/google/connector.js';
import { plainTokenHttp } from '../connectors/simulated/direct-http.js';
import { loopbackTls, type LoopbackTls } from '../emulators/loopback-tls.js';
import { startGoogleEmulator, type CustomerSpec, type GoogleCustomerControl, type GoogleEmulator } from '../emulators/google/index.js';

export const CUSTOMER_ID = 'C03az79cb';
export const DOMAIN = 'acme.example.com';
export const SERVICE_ACCOUNT = { clientEmail: 'tenantwatch@acme-project.iam.gserviceaccount.com', clientId: '104857600000000000001' };

/** A service account key pair made once per test process (RSA, as Google's keys are). */
const keys = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const PRIVATE_KEY = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
export const PUBLIC_KEY = keys.publicKey.export({ type: 'spki', format: 'pem' }).toString();

/** The service account's JSON key as Google's console downloads it (its token_uri the emulator's). */
export function serviceAccountKey(tokenUrl: string): Record<string, string> {
  return {
    type: 'service_account',
    project_id: 'acme-project',
    private_key_id: 'emulated',
    private_key: PRIVATE_KEY,
    client_email: SERVICE_ACCOUNT.clientEmail,
    client_id: SERVICE_ACCOUNT.clientId,
    token_uri: tokenUrl,
  };
}

/** The customer's first super administrator: the subject the connector acts as. */
export const adminOf = (control: GoogleCustomerControl) => control.truth().users.find((u) => u.isAdmin && !u.suspended)!.primaryEmail;

/**
 * A ProviderHttp over plain fetch for tests: the service's endpoint, the credentials of the request's
 * subject (a 401 once renews them), the connector's throttle reading, failures typed as the
 * scheduler's client types them; no retries and no rate budget.
 */
export function directGoogleHttp(
  endpoints: Readonly<Record<string, string>>,
  credentials: ConnectorCredentials,
  connector: () => Connector,
): ProviderHttp {
  return {
    async request(request: ProviderRequest): Promise<ProviderResponse> {
      const base = endpoints[request.service ?? 'directory']!;
      const [path = '', search] = request.path.split(/\?(.*)/s, 2);
      const url = new URL(base + path);
      if (search !== undefined) url.search = search;
      for (const [key, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(key, String(value));
      for (let attempt = 0; ; attempt++) {
        const response = await fetch(url, {
          method: request.method,
          headers: {
            ...(await credentials.headers(request.service, request.subject)),
            ...(request.rawBody
              ? { 'content-type': request.rawBody.contentType }
              : request.body !== undefined
                ? { 'content-type': 'application/json' }
                : {}),
          },
          body: request.rawBody ? request.rawBody.bytes : request.body !== undefined ? JSON.stringify(request.body) : undefined,
        });
        const bytes = Buffer.from(await response.arrayBuffer());
        const signal = connector().parseThrottle({ status: response.status, headers: response.headers, bytes });
        if (signal.throttled) throw new ThrottledError(`throttled (HTTP ${response.status})`, signal.retryAfterMs ?? 1000, response.status);
        if (response.ok) {
          const json = (response.headers.get('content-type') ?? '').includes('json');
          return {
            status: response.status,
            headers: response.headers,
            bytes,
            body: json && bytes.length ? JSON.parse(bytes.toString('utf8')) : bytes,
          };
        }
        if (response.status === 401 && attempt === 0) {
          credentials.invalidate(request.service, request.subject);
          continue;
        }
        const what = `${request.method} ${request.path} (HTTP ${response.status}): ${bytes.toString('utf8').slice(0, 300)}`;
        if (response.status >= 500) throw new TransientError(what, response.status);
        if (response.status === 401 || response.status === 403) throw new CredentialError(what, response.status);
        throw new PermanentError(what, response.status);
      }
    },
  };
}

/** The Google Workspace emulator over HTTPS, trusted by this test process's fetch until `stop`. */
export interface TrustedGoogleEmulator {
  readonly emulator: GoogleEmulator;
  readonly control: GoogleCustomerControl;
  readonly tls: LoopbackTls;
  /** The `connectApp` config that points the connector at the emulator (plus `extra`). */
  config(extra?: Readonly<Record<string, unknown>>): Record<string, unknown>;
  /** A connector over {@link directGoogleHttp}, and its credentials. */
  connector(
    extra?: Readonly<Record<string, unknown>>,
    tokens?: TokenHttp,
  ): { readonly connector: Connector; readonly credentials: ConnectorCredentials };
  stop(): Promise<void>;
}

/** Starts the emulator with one customer, this process's service account and a loopback certificate this process trusts. */
export async function startTrustedGoogle(
  spec: Partial<CustomerSpec> = {},
  options: { allowHttpWebhooks?: boolean } = {},
): Promise<TrustedGoogleEmulator> {
  const tls = await loopbackTls();
  const previous = getGlobalDispatcher();
  const agent = new Agent({ connect: { ca: [...rootCertificates, tls.cert] } });
  setGlobalDispatcher(agent);
  let emulator: GoogleEmulator;
  try {
    emulator = await startGoogleEmulator({
      tls,
      allowHttpWebhooks: options.allowHttpWebhooks ?? true,
      customers: [
        {
          customerId: CUSTOMER_ID,
          domain: DOMAIN,
          serviceAccounts: [{ ...SERVICE_ACCOUNT, publicKeyPem: PUBLIC_KEY }],
          latencyMs: { login: 0, admin: 0, drive: 0, token: 0 },
          ...spec,
        },
      ],
    });
  } catch (error) {
    setGlobalDispatcher(previous);
    await agent.close();
    throw error;
  }
  const control = emulator.customer(spec.customerId ?? CUSTOMER_ID);
  const config = (extra: Readonly<Record<string, unknown>> = {}) => ({
    serviceAccountKey: serviceAccountKey(emulator.tokenUrl),
    adminSubject: adminOf(control),
    tokenUrl: emulator.tokenUrl,
    adminEndpoint: emulator.url,
    driveEndpoint: emulator.url,
    ...extra,
  });
  return {
    emulator,
    control,
    tls,
    config,
    connector(extra = {}, tokens = plainTokenHttp) {
      const valid = factory.validateConfig(config(extra));
      const credentials = factory.credentials(valid, tokens);
      const endpoints = factory.serviceEndpointsOf!(valid);
      const holder: { connector?: Connector } = {};
      const connector = factory.create(
        valid,
        directGoogleHttp(endpoints, credentials, () => holder.connector!),
        credentials,
      );
      holder.connector = connector;
      return { connector, credentials };
    },
    async stop() {
      await emulator.stop();
      setGlobalDispatcher(previous);
      await agent.close();
    },
  };
}
