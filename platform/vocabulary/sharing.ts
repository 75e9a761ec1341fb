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
registerEnumType(SharingLevel, {
  name: 'SharingLevel',
  description: 'Who can reach a file, from the least to the most exposed.',
  valuesConfig: {
    PRIVATE: { description: 'The owner and people of the organization named as collaborators.' },
    INTERNAL: { description: 'Everyone in the organization (e.g. an organization-wide link).' },
    EXTERNAL: { description: 'Named people outside the organization.' },
    PUBLIC: { description: 'Anyone with the link, without signing in.' },
  },
});

/** Every sharing level, least exposed first. */
export const SHARING_LEVELS: readonly SharingLevel[] = Object.values(SharingLevel);
