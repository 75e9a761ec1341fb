import { SeededRng } from '../prng.js';

/** The emulators' seeded PRNG with the shapes of Google Workspace values. */
export class Rng extends SeededRng {
  digits(length: number): string {
    let out = String(this.int(1, 9));
    while (out.length < length) out += String(this.int(0, 9));
    return out;
  }

  chars(length: number, alphabet: string): string {
    let out = '';
    while (out.length < length) out += alphabet[Math.floor(this.next() * alphabet.length)];
    return out;
  }

  /** A Directory user or role id: a long decimal string (the Directory API's ids are numeric strings). */
  numericId(length = 21): string {
    return this.digits(length);
  }

  /** A Drive file id: 33 URL-safe characters starting with 1, as Drive makes them. */
  fileId(): string {
    return `1${this.chars(32, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`;
  }

  /** A shared drive id: 0A followed by URL-safe characters, as Drive makes them. */
  driveId(): string {
    return `0A${this.chars(17, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-')}`;
  }

  /** A group id: 15 lower-case base-36 characters starting with 0 (e.g. 00meukdy2j2gx6m). */
  groupId(): string {
    return `0${this.chars(14, 'abcdefghijklmnopqrstuvwxyz0123456789')}`;
  }
}
