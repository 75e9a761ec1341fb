import { SeededRng } from '../prng.js';

/** The emulators' seeded PRNG with the shapes of Microsoft 365 ids. */
export class Rng extends SeededRng {
  /** A GUID-shaped id (directory object ids are GUIDs). */
  guid(): string {
    const hex = Array.from({ length: 32 }, () => Math.floor(this.next() * 16).toString(16)).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
  }

  /** A driveItem-shaped id (01 + 32 base-32 characters). */
  itemId(): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    return `01${Array.from({ length: 32 }, () => alphabet[Math.floor(this.next() * 32)]).join('')}`;
  }
}
