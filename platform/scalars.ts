import { DateTimeResolver, JSONResolver } from 'graphql-scalars';

/** `DateTime` (ISO 8601, UTC) and `JSON`, as API.md names them. */
export const DateTimeScalar = DateTimeResolver;
export const JSONScalar = JSONResolver;
export const scalarsMap = [{ type: Date, scalar: DateTimeScalar }];
