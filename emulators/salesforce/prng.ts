import { SeededRng } from '../prng.js';

/** The emulators' seeded PRNG with the shapes of Salesforce values. */
export class Rng extends SeededRng {
  /** `n` random bytes as hex (request ids, public link tokens). */
  hex(n: number): string {
    return Array.from({ length: n }, () =>
      Math.floor(this.next() * 256)
        .toString(16)
        .padStart(2, '0'),
    ).join('');
  }
}
