import { registerEnumType } from 'type-graphql';

/**
 * The kinds of sensitive information a data scan counts (the detectors' names), the same words as
 * `SensitiveMatch.type` and a FILE policy's `sensitiveType`.
 */
export const SensitiveDataType = {
  API_TOKEN: 'API_TOKEN',
  AWS_ACCESS_KEY: 'AWS_ACCESS_KEY',
  CREDIT_CARD_NUMBER: 'CREDIT_CARD_NUMBER',
  EMAIL_ADDRESS: 'EMAIL_ADDRESS',
  IBAN: 'IBAN',
  JWT: 'JWT',
  PRIVATE_KEY: 'PRIVATE_KEY',
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
};

registerEnumType(SensitiveDataType, {
  name: 'SensitiveDataType',
  description: "A kind of sensitive information a data scan counts in a file's content.",
  valuesConfig: SENSITIVE_DATA_DESCRIPTIONS,
});
