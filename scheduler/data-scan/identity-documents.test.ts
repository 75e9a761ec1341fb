import { describe, expect, it } from 'vitest';
import { DETECTORS } from './detectors.js';
import { isPassportMrzLine, mrzCheckDigit } from './identity-documents.js';
import { SensitiveDataType } from '../../platform/vocabulary/sensitive-data.js';

function detector(type: SensitiveDataType): (text: string) => number {
  const found = DETECTORS.find((d) => d.type === type);
  if (!found) throw new Error(`no detector for ${type}`);
  return (text) => found.find(text);
}

// ICAO Doc 9303 part 4's specimen passport (Utopia, Anna Maria Eriksson).
const SPECIMEN_MRZ = ['P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<', 'L898902C36UTO7408122F1204159ZE184226B<<<<<10'];

describe('PASSPORT_NUMBER', () => {
  const find = detector(SensitiveDataType.PASSPORT_NUMBER);

  it('computes ICAO 9303 check digits', () => {
    expect(mrzCheckDigit('L898902C3')).toBe(6);
    expect(mrzCheckDigit('740812')).toBe(2);
    expect(mrzCheckDigit('ZE184226B<<<<<')).toBe(1);
    expect(isPassportMrzLine(SPECIMEN_MRZ[1]!)).toBe(true);
  });

  it('finds a machine readable zone whose check digits hold', () => {
    expect(find(SPECIMEN_MRZ.join('\n'))).toBe(1);
  });

  it.each([
    ['the document number', 'L898902C46UTO7408122F1204159ZE184226B<<<<<10'],
    ['the birth date', 'L898902C36UTO7408132F1204159ZE184226B<<<<<10'],
    ['the composite check digit', 'L898902C36UTO7408122F1204159ZE184226B<<<<<11'],
  ])('refuses a zone with a wrong %s', (_what, line) => {
    expect(find(line)).toBe(0);
  });

  it.each(['Passport No: 123456789', 'passport number A12345678', 'PASSPORT #: 987654321', 'Passport: 555123456, issued 2019'])(
    'finds a number written after the word: %j',
    (text) => {
      expect(find(text)).toBe(1);
    },
  );

  it.each(['Order No: 123456789', 'passport 12345678', 'passport 1234567890', 'passport AB1234567', 'passportless 123456789'])(
    'refuses %j',
    (text) => {
      expect(find(text)).toBe(0);
    },
  );
});

describe('UK_DRIVING_LICENCE', () => {
  const find = detector(SensitiveDataType.UK_DRIVING_LICENCE);

  it.each([
    ['DVLA sample (woman born 11 March 1976)', 'MORGA753116SM9IJ'],
    ['a short surname padded with 9s', 'LI999802145J99AB'],
    ['a licence with its issue number', 'Licence: JONES710238AB9CD 04'],
  ])('finds %s', (_name, text) => {
    expect(find(text)).toBe(1);
  });

  it.each([
    ['month 13', 'MORGA713116SM9IJ'],
    ['month 00', 'MORGA700116SM9IJ'],
    ['day 32', 'MORGA703326SM9IJ'],
    ['30 February', 'MORGA702306SM9IJ'],
    ['a 9 between letters of the surname', 'MO9GA753116SM9IJ'],
    ['lowercase letters', 'morga753116sm9ij'],
    ['one character more', 'MORGA753116SM9IJK'],
  ])('refuses one with %s', (_why, text) => {
    expect(find(text)).toBe(0);
  });
});
