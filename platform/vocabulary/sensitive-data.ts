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
