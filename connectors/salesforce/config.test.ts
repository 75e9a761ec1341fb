import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { connectorCatalog } from '../registry.js';
import { validateSalesforceConfig } from './config.js';
import { salesforceConnectorFactory } from './connector.js';
import { capabilitiesOf } from './permissions.js';

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const RSA_PEM = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const JWT = { instanceUrl: 'https://acme.my.salesforce.com/', consumerKey: '3MVG9-key', privateKeyPem: PEM, username: 'tw@acme.com' };

describe('the Salesforce config', () => {
  it('fills the defaults: login.salesforce.com, API 62.0, a daily limit until the org reports one', () => {
    const config = validateSalesforceConfig(JWT);
    expect(config).toMatchObject({
      instanceUrl: 'https://acme.my.salesforce.com',
      loginUrl: 'https://login.salesforce.com',
      apiVersion: '62.0',
      dailyRequestLimit: 15_000,
      rateLimitPerMinute: 600,
    });
    expect(salesforceConnectorFactory.endpointOf(config)).toBe('https://acme.my.salesforce.com');
    expect(validateSalesforceConfig({ ...JWT, privateKeyPem: RSA_PEM }).privateKeyPem).toBe(RSA_PEM);
    expect(
      validateSalesforceConfig({ instanceUrl: 'https://acme.my.salesforce.com', consumerKey: 'k', consumerSecret: 's' }).consumerSecret,
    ).toBe('s');
  });

  it.each([
    [{ ...JWT, instanceUrl: 'http://acme.my.salesforce.com' }, /^config\.instanceUrl: must be an https URL/],
    [{ ...JWT, instanceUrl: 'https://acme.my.salesforce.com/?x=1' }, /^config\.instanceUrl: must be an https URL/],
    [{ ...JWT, loginUrl: 'login.salesforce.com' }, /^config\.loginUrl: must be an https URL/],
    [{ ...JWT, consumerKey: '' }, /^config\.consumerKey: must not be empty/],
    [{ ...JWT, privateKeyPem: 'not a key' }, /^config\.privateKeyPem: must be an RSA private key/],
    [{ ...JWT, username: 'tw' }, /^config\.username: must be a Salesforce username/],
    [{ ...JWT, consumerSecret: 's' }, /^config\.consumerSecret: give privateKeyPem and username .* not both/],
    [{ instanceUrl: JWT.instanceUrl, consumerKey: 'k' }, /^config\.privateKeyPem: give privateKeyPem and username/],
    [{ ...JWT, username: undefined }, /^config\.username: the JWT bearer flow needs both/],
    [{ ...JWT, apiVersion: '62' }, /^config\.apiVersion: must be an API version such as "62\.0"/],
    [{ ...JWT, apiVersion: '20.0' }, /^config\.apiVersion: must be 31\.0 or later/],
    [{ ...JWT, dailyRequestLimit: 1.5 }, /^config\.dailyRequestLimit: must be a positive whole number/],
    [{ ...JWT, organizationId: '005000000000001' }, /^config\.organizationId: must be the org id/],
    [{ ...JWT, token: 'x' }, /^config\.token: unknown field; accepted: instanceUrl, loginUrl, consumerKey/],
    ['a string', /^config: must be an object/],
  ])('refuses %j naming the field', (config, message) => {
    expect(() => validateSalesforceConfig(config)).toThrow(message);
  });

  it('is in the catalog, which checks a connectApp config with it', () => {
    expect(connectorCatalog.providers).toContain('salesforce');
    expect(() => connectorCatalog.validateConfig('salesforce', { ...JWT, instanceUrl: 'nope' })).toThrow(/config\.instanceUrl/);
    const type = connectorCatalog.types.find((t) => t.id === 'salesforce')!;
    expect(type.configFields.map((f) => f.name)).toEqual(
      expect.arrayContaining(['instanceUrl', 'consumerKey', 'privateKeyPem', 'username', 'consumerSecret']),
    );
    expect(type.configFields.filter((f) => f.secret).map((f) => f.name)).toEqual(['privateKeyPem', 'consumerSecret']);
  });
});

describe('the Salesforce capabilities', () => {
  it('follow the integration user’s permissions', () => {
    expect(capabilitiesOf(['ApiEnabled', 'ViewSetup', 'ManageUsers', 'QueryAllFiles', 'ModifyAllData', 'ViewEventLogFiles'])).toEqual({
      capabilities: [
        'ACCOUNT_INFO',
        'AUDIT_TRAIL',
        'ACCOUNT_GOVERNANCE',
        'APP_PERMISSIONS',
        'APP_PERMISSION_GOVERNANCE',
        'DATA_SCAN',
        'DATA_GOVERNANCE',
      ],
      missing: [],
    });
    const reader = capabilitiesOf(['ApiEnabled', 'ViewSetup', 'QueryAllFiles']);
    expect(reader.capabilities).toEqual(['ACCOUNT_INFO', 'DATA_SCAN']);
    expect(reader.missing.sort()).toEqual(['ManageUsers', 'ModifyAllData', 'ViewEventLogFiles']);
    expect(capabilitiesOf(['ViewSetup', 'ManageUsers']).capabilities).toEqual([]);
  });
});
