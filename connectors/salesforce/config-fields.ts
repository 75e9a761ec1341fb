import type { ConnectorConfigField } from '../contract.js';

/** The Salesforce config's fields, as a connect form renders them. */
export const SALESFORCE_CONFIG_FIELDS: readonly ConnectorConfigField[] = [
  {
    name: 'instanceUrl',
    label: 'My Domain URL',
    secret: false,
    required: true,
    description: 'The org’s My Domain URL, e.g. https://acme.my.salesforce.com (Setup → My Domain)',
  },
  {
    name: 'consumerKey',
    label: 'Consumer key',
    secret: false,
    required: true,
    description: 'The connected app’s consumer key (Setup → App Manager → the app → View → Manage Consumer Details)',
  },
  {
    name: 'privateKeyPem',
    label: 'Private key (JWT bearer flow)',
    secret: true,
    required: false,
    description: 'The PEM private key of the certificate uploaded to the connected app (Use digital signatures)',
  },
  {
    name: 'username',
    label: 'Integration user (JWT bearer flow)',
    secret: false,
    required: false,
    description: 'The username of the integration user the connected app is pre-authorized for',
  },
  {
    name: 'consumerSecret',
    label: 'Consumer secret (client credentials flow)',
    secret: true,
    required: false,
    description: 'Instead of a private key, where the connected app enables the client credentials flow with a run-as user',
  },
  {
    name: 'loginUrl',
    label: 'Login URL',
    secret: false,
    required: false,
    description: 'https://login.salesforce.com (default), https://test.salesforce.com for a sandbox, or the My Domain URL',
  },
  { name: 'apiVersion', label: 'API version', secret: false, required: false, description: 'The REST API version, default 62.0' },
  {
    name: 'dailyRequestLimit',
    label: 'Daily API request limit',
    secret: false,
    required: false,
    description: 'Assumed until Salesforce reports the org’s own (Sforce-Limit-Info), default 15,000',
  },
  {
    name: 'rateLimitPerMinute',
    valueType: 'NUMBER',
    label: 'Requests per minute',
    secret: false,
    required: false,
    description: 'The rate Tenantwatch keeps to (default 600)',
  },
  {
    name: 'organizationId',
    label: 'Organization ID',
    secret: false,
    required: false,
    description: 'The org id (00D…, Setup → Company Information): outbound messages (real-time file changes) from other orgs are refused',
  },
];
