import { randomUUID } from 'node:crypto';
import { badInput } from './errors.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** A new opaque id (a UUID). */
export function newId(): string {
  return randomUUID();
}

export function isId(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

/** Checks an ID argument; throws BAD_USER_INPUT naming `argument` when it is not one of ours. */
export function parseId(value: string, argument: string): string {
  if (!isId(value)) throw badInput(argument, `"${String(value).slice(0, 64)}" is not a valid ID`);
  return value.toLowerCase();
}

/** Like {@link parseId} for optional arguments. */
export function parseOptionalId(value: string | null | undefined, argument: string): string | undefined {
  return value === null || value === undefined ? undefined : parseId(value, argument);
}
