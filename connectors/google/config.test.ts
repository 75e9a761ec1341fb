import { describe, expect, it } from 'vitest';
import { googleConnectorFactory } from './connector.js';
import { domainsOf, validateGoogleConfig } from './config.js';
import { capabilitiesOf, SCOPE, scopesFor } from './scopes.js';

const KEY = {
  type: 'service_account',
  project_id: 'acme',
  private_key_id: 'k1',
  private_key: '-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n',
  client_email: 'tw@acme.iam.gserviceaccount.com',
  client_id: '104857600000000000001',
};
const base = { serviceAccountKey: KEY, adminSubject: 'admin@acme.example.com' };

describe('the Google Workspace config', () => {
  it('fills the defaults: Google’s endpoints, my_customer, the documented quotas', () => {
    const config = validateGoogleConfig(base);
    expect(config).toMatchObject({
      customerId: 'my_customer',
      tokenUrl: 'https://oauth2.googleapis.com/token',
      adminEndpoint: 'https://admin.googleapis.com',
      driveEndpoint: 'https://www.googleapis.com',
      quotas: { directory: 2400, reports: 2400, drive: 12_000 },
      quarantineFolder: 'Tenantwatch Quarantine',
      domains: [],
    });
    // Only what is used is kept of the key.
    expect(config.serviceAccountKey).toEqual({ client_email: KEY.client_email, private_key: KEY.private_key, client_id: KEY.client_id });
    expect(googleConnectorFactory.endpointOf(config)).toBe('https://admin.googleapis.com');
    expect(googleConnectorFactory.serviceEndpointsOf!(config)).toEqual({
      directory: 'https://admin.googleapis.com',
      reports: 'https://admin.googleapis.com',
      drive: 'https://www.googleapis.com',
    });
    // Validating what was stored again gives the same config.
    expect(validateGoogleConfig(config)).toEqual(config);
  });

  it('takes the key as its JSON text, its token_uri, explicit endpoints and quotas', () => {
    const config = validateGoogleConfig({
      ...base,
      serviceAccountKey: JSON.stringify({ ...KEY, token_uri: 'https://127.0.0.1:9443/token' }),
      adminEndpoint: 'https://127.0.0.1:9443/',
      driveEndpoint: 'https://127.0.0.1:9443',
      customerId: 'C03az79cb',
      domains: ['acme-labs.example.org'],
      quotas: { drive: 600 },
      pageSize: 5,
    });
    expect(config.tokenUrl).toBe('https://127.0.0.1:9443/token');
    expect(config.adminEndpoint).toBe('https://127.0.0.1:9443');
    expect(config.quotas).toEqual({ directory: 2400, reports: 2400, drive: 600 });
    expect([...domainsOf(config)]).toEqual(['acme.example.com', 'acme-labs.example.org']);
    // An explicit tokenUrl wins over the key's.
    expect(validateGoogleConfig({ ...base, tokenUrl: 'http://127.0.0.1:1/t' }).tokenUrl).toBe('http://127.0.0.1:1/t');
  });

  it('names the bad field', () => {
    const cases: [unknown, string][] = [
      [{ adminSubject: 'a@b.co' }, 'config.serviceAccountKey: required: the service account’s JSON key (the object or its text)'],
      [
        { ...base, serviceAccountKey: '{not json' },
        'config.serviceAccountKey: required: the service account’s JSON key (the object or its text)',
      ],
      [{ ...base, serviceAccountKey: { ...KEY, client_id: 'abc' } }, 'config.serviceAccountKey.client_id: must be the numeric client id'],
      [
        { ...base, serviceAccountKey: { ...KEY, private_key: 'secret' } },
        'config.serviceAccountKey.private_key: must be the key file’s PEM private key',
      ],
      [
        { ...base, serviceAccountKey: { ...KEY, type: 'authorized_user' } },
        'config.serviceAccountKey.type: must be "service_account" (a service account key)',
      ],
      [{ serviceAccountKey: KEY }, 'config.adminSubject: required: a super administrator’s email'],
      [{ ...base, adminSubject: 'admin' }, 'config.adminSubject: must be a super administrator’s email'],
      [{ ...base, customerId: 'acme' }, 'config.customerId: must be my_customer or a customer id such as C03az79cb'],
      [{ ...base, adminEndpoint: 'ftp://x' }, 'config.adminEndpoint: must be an http(s) URL'],
      [{ ...base, quotas: { drive: -1 } }, 'config.quotas.drive: must be a positive number'],
      [{ ...base, quotas: { gmail: 1 } }, 'config.quotas.gmail: unknown field; accepted: directory, reports, drive'],
      [{ ...base, quarantineFolder: "a'b" }, 'config.quarantineFolder: must be a folder name without / \\ \' or "'],
      [{ ...base, webhookSecret: 'short' }, 'config.webhookSecret: must be 16 to 256 characters'],
      [{ ...base, pageSize: 0 }, 'config.pageSize: must be an integer from 1 to 500'],
      [{ ...base, domains: ['not a domain'] }, 'config.domains.0: must be domain names'],
      [
        { ...base, tenant: 'x' },
        'config.tenant: unknown field; accepted: serviceAccountKey, adminSubject, customerId, domains, tokenUrl, adminEndpoint, driveEndpoint, quotas, quarantineFolder, pageSize, webhookSecret',
      ],
      ['x', 'config: must be an object { serviceAccountKey, adminSubject, customerId?, quarantineFolder?, quotas? }'],
    ];
    for (const [config, message] of cases) expect(() => validateGoogleConfig(config), JSON.stringify(config)).toThrow(message);
  });
});

describe('the Google Workspace scopes', () => {
  it('ties each capability to the scopes it needs and names the first missing one', () => {
    expect(capabilitiesOf([SCOPE.userReadonly, SCOPE.groupReadonly, SCOPE.rolesReadonly, SCOPE.audit, SCOPE.driveReadonly])).toEqual({
      capabilities: ['ACCOUNT_INFO', 'AUDIT_TRAIL', 'DATA_SCAN'],
      missing: [SCOPE.user, SCOPE.userSecurity, SCOPE.drive],
    });
    const all = capabilitiesOf([SCOPE.user, SCOPE.group, SCOPE.roles, SCOPE.userSecurity, SCOPE.audit, SCOPE.drive]);
    expect(all.capabilities).toHaveLength(7);
    expect(all.missing).toEqual([]);
  });

  it('asks a token for the scopes the delegation grants, most capable first', () => {
    expect(scopesFor('directory', null)).toEqual([SCOPE.user, SCOPE.groupReadonly, SCOPE.rolesReadonly, SCOPE.userSecurity]);
    expect(scopesFor('directory', new Set([SCOPE.userReadonly, SCOPE.group]))).toEqual([SCOPE.userReadonly, SCOPE.group]);
    expect(scopesFor('drive', new Set([SCOPE.driveReadonly]))).toEqual([SCOPE.driveReadonly]);
    expect(scopesFor('reports', new Set())).toEqual([]);
  });
});
