import type { Rng } from './prng.js';

/** The kinds of sensitive data planted in some files, for a data scan to find. */
export type PlantedKind = 'credit_card' | 'ssn' | 'iban';

/** A 16-digit Visa-like card number whose Luhn check digit is valid, grouped by four. */
export function cardNumber(rng: Rng): string {
  const digits = [4, ...Array.from({ length: 14 }, () => rng.int(0, 9))];
  let sum = 0;
  // Luhn: double every second digit from the right, the check digit (appended) being the first from the right.
  for (let i = digits.length - 1, double = true; i >= 0; i--, double = !double) {
    const d = double ? digits[i]! * 2 : digits[i]!;
    sum += d > 9 ? d - 9 : d;
  }
  digits.push((10 - (sum % 10)) % 10);
  const s = digits.join('');
  return `${s.slice(0, 4)} ${s.slice(4, 8)} ${s.slice(8, 12)} ${s.slice(12)}`;
}

/** A US SSN in a valid range: area 001–899 but not 666, group 01–99, serial 0001–9999. */
export function ssn(rng: Rng): string {
  let area = rng.int(1, 899);
  if (area === 666) area = 667;
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(area, 3)}-${pad(rng.int(1, 99), 2)}-${pad(rng.int(1, 9999), 4)}`;
}

/** A German IBAN (DE, 18 digits) whose ISO 7064 mod-97 check digits are valid. */
export function iban(rng: Rng): string {
  const bban = Array.from({ length: 18 }, () => rng.int(0, 9)).join('');
  // Check digits: 98 - (BBAN + "DE00" as digits, D=13 E=14) mod 97.
  const numeric = `${bban}131400`;
  let rem = 0;
  for (const ch of numeric) rem = (rem * 10 + Number(ch)) % 97;
  const check = String(98 - rem).padStart(2, '0');
  return `DE${check}${bban}`.replace(/(.{4})/g, '$1 ').trim();
}

/** A line of text carrying one planted value of `kind`. */
export function plantedLine(rng: Rng, kind: PlantedKind): string {
  switch (kind) {
    case 'credit_card':
      return `Corporate card on file: ${cardNumber(rng)} exp 09/29`;
    case 'ssn':
      return `Employee SSN ${ssn(rng)} for payroll`;
    case 'iban':
      return `Wire the deposit to IBAN ${iban(rng)}`;
  }
}
