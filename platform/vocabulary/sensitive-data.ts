import { registerEnumType } from 'type-graphql';

/**
 * The kinds of sensitive information a data scan counts (the detectors' names), the same words as
 * `SensitiveMatch.type` and a FILE policy's `sensitiveType`. API_TOKEN counts every provider token with a
 * fixed prefix (GitHub, Slack, Stripe and Google keys among them); GITHUB_TOKEN, SLACK_TOKEN, STRIPE_KEY and
 * GOOGLE_API_KEY count those of one provider again, each checked as far as its format allows.
 */
export const SensitiveDataType = {
  API_TOKEN: 'API_TOKEN',
  AWS_ACCESS_KEY: 'AWS_ACCESS_KEY',
  AZURE_STORAGE_KEY: 'AZURE_STORAGE_KEY',
  CREDIT_CARD_NUMBER: 'CREDIT_CARD_NUMBER',
  DATABASE_CONNECTION_STRING: 'DATABASE_CONNECTION_STRING',
  EMAIL_ADDRESS: 'EMAIL_ADDRESS',
  GITHUB_TOKEN: 'GITHUB_TOKEN',
  GOOGLE_API_KEY: 'GOOGLE_API_KEY',
  IBAN: 'IBAN',
  JWT: 'JWT',
  PASSPORT_NUMBER: 'PASSPORT_NUMBER',
  PHONE_NUMBER: 'PHONE_NUMBER',
  PRIVATE_KEY: 'PRIVATE_KEY',
  SLACK_TOKEN: 'SLACK_TOKEN',
  STRIPE_KEY: 'STRIPE_KEY',
  UK_DRIVING_LICENCE: 'UK_DRIVING_LICENCE',
  US_SSN: 'US_SSN',
} as const;
export type SensitiveDataType = (typeof SensitiveDataType)[keyof typeof SensitiveDataType];

/**
 * What each kind means, for the GraphQL enum: one entry per value, so that a kind added above does not
 * compile until it is described here (the enum itself is built from {@link SensitiveDataType}).
 */
const SENSITIVE_DATA_DESCRIPTIONS: { readonly [K in SensitiveDataType]: { readonly description: string } } = {
  API_TOKEN: { description: 'A provider token with a fixed prefix (GitHub, GitLab, Slack, Stripe, Google, SendGrid, npm, Shopify).' },
  AWS_ACCESS_KEY: { description: 'An AWS access key id (AKIA… long-term or ASIA… temporary).' },
  CREDIT_CARD_NUMBER: {
    description: 'A payment card number (13 to 19 digits, possibly grouped) with a known issuer prefix and a valid Luhn check digit.',
  },
  EMAIL_ADDRESS: { description: 'An email address.' },
  IBAN: { description: 'An international bank account number whose length and check digits are valid for its country.' },
  JWT: { description: 'A JSON Web Token (a header naming its algorithm, a payload and a signature).' },
  PRIVATE_KEY: { description: 'A PEM, OpenSSH or PGP private key block.' },
  US_SSN: { description: 'A US Social Security number (AAA-GG-SSSS, never-issued and advertised numbers excluded).' },
  AZURE_STORAGE_KEY: { description: 'An Azure storage account key (64 bytes, labelled AccountKey or set as a storage key variable).' },
  DATABASE_CONNECTION_STRING: { description: 'A database connection string holding a real password (a URL or Server=…;Password=…).' },
  GITHUB_TOKEN: { description: 'A GitHub token whose CRC32 checksum is valid (github_pat_ by shape); also counted as API_TOKEN.' },
  GOOGLE_API_KEY: { description: 'A Google API key (AIza…); also counted as API_TOKEN.' },
  PASSPORT_NUMBER: {
    description: 'A passport number: an ICAO 9303 machine-readable zone with valid check digits, or a number after the word passport.',
  },
  PHONE_NUMBER: { description: 'A phone number (international, US or UK national form) that fits its country’s numbering plan.' },
  SLACK_TOKEN: { description: 'A Slack token (xox…); also counted as API_TOKEN.' },
  STRIPE_KEY: { description: 'A Stripe live secret or restricted key; also counted as API_TOKEN.' },
  UK_DRIVING_LICENCE: { description: 'A UK driving licence number with the DVLA structure and a real date of birth.' },
};

registerEnumType(SensitiveDataType, {
  name: 'SensitiveDataType',
  description: "A kind of sensitive information a data scan counts in a file's content.",
  valuesConfig: SENSITIVE_DATA_DESCRIPTIONS,
});
