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
