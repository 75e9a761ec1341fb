import { describe, expect, it } from 'vitest';
import { DETECTORS } from './detectors.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

const phoneDetector = DETECTORS.find((d) => d.type === SensitiveDataType.PHONE_NUMBER)!;
const find = (text: string): number => phoneDetector.find(text);

describe('PHONE_NUMBER', () => {
  it.each([
    ['E.164', '+14155552671'],
    ['international, spaced', 'call +1 415 555 2671 today'],
    ['international, area code in parentheses', '+1 (415) 555-2671'],
    ['UK, international', '+44 20 7946 0958'],
    ['Germany, international', 'Tel. +49 30 1234567'],
    ['France, international', '+33 1 23 45 67 89'],
    ['US, parentheses', '(415) 555-2671'],
    ['US, dashed', '415-555-2671'],
    ['US, dotted', '415.555.2671'],
    ['US, toll free with its 1', '1-800-555-0199'],
    ['UK, national', 'Phone: 020 7946 0958'],
    ['UK, mobile', '07911 123456'],
  ])('finds a number written %s', (_how, text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['a bare run of ten digits', '4155552671'],
    ['a date', '2024-05-17'],
    ['a date and time', '12/05/2024 10:30'],
    ['an invoice number', 'INV-2024-000123'],
    ['an SSN', '123-45-6789'],
    ['a card number', '4111 1111 1111 1111'],
    ['an IBAN', 'DE89 3704 0044 0532 0130 00'],
    ['a large number', '1,234,567'],
    ['a version', 'v1.2.3.4'],
    ['a US number with an area code that does not exist', '123-456-7890'],
    ['an international number with an unknown country code', '+999 1234 5678'],
    ['an ISBN', 'ISBN 978-3-16-148410-0'],
    ['a seven-digit local number', '555-0134'],
  ])('refuses %s', (_what, text) => {
    expect(find(text)).toBe(0);
  });

  it('counts each number once, however it is written', () => {
    expect(find('+1 415-555-2671, (415) 555-2671; +1 (415) 555-2671 and 020 7946 0958')).toBe(4);
  });
});
