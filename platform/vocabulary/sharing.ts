import { registerEnumType } from 'type-graphql';

/**
 * Who can reach a file: PRIVATE (the owner and named internal collaborators), INTERNAL (the whole
 * domain), EXTERNAL (named people outside it), PUBLIC (anyone with the link). Ordered from least to most exposed.
 */
export const SharingLevel = {
  PRIVATE: 'PRIVATE',
  INTERNAL: 'INTERNAL',
  EXTERNAL: 'EXTERNAL',
  PUBLIC: 'PUBLIC',
} as const;
export type SharingLevel = (typeof SharingLevel)[keyof typeof SharingLevel];
registerEnumType(SharingLevel, { name: 'SharingLevel' });

/** Every sharing level, least exposed first. */
export const SHARING_LEVELS: readonly SharingLevel[] = Object.values(SharingLevel);
