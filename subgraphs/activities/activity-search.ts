/**
 * The text an activity search matches (case-insensitive substrings): the action, the actor's and the
 * file's provider ids, the IP address, the country, the user agent and the target. The same
 * expression is indexed (migration Migration20261207300000) and queried, so the trigram index serves it.
 */
export const ACTIVITY_SEARCH_TEXT = `lower(coalesce("action", '') || ' ' || coalesce("actor_external_id", '') || ' ' || coalesce("file_external_id", '') || ' ' || coalesce("ip_address", '') || ' ' || coalesce("country", '') || ' ' || coalesce("user_agent", '') || ' ' || coalesce("target_id", ''))`;

/** A search term's bounds: trigrams need three characters. */
export const SEARCH_MIN = 3;
export const SEARCH_MAX = 100;

/** `term` as a LIKE pattern matching it anywhere, its wildcards taken literally. */
export function likePattern(term: string): string {
  return `%${term.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
