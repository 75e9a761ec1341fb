import { buildSchema, GraphQLError, parse, validate, type GraphQLFormattedError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { appError, badInput, ErrorCode, formatError } from './errors.js';

const schema = buildSchema(`
  enum AccountStatus { ACTIVE SUSPENDED DELETED }
  input ActivityWindow { from: String!, to: String }
  input AccountFilter { status: AccountStatus, statuses: [AccountStatus!], instanceId: ID, window: ActivityWindow }
  type Account { id: ID! }
  type Query { accounts(filter: AccountFilter, first: Int): [Account!]! }
`);

/**
 * Wraps a graphql-js validation error as Apollo Server does before calling formatError (its
 * `ValidationError`: same message and nodes, code GRAPHQL_VALIDATION_FAILED), see
 * https://github.com/apollographql/apollo-server/blob/main/packages/server/src/internalErrorClasses.ts
 */
function asApolloValidationError(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    originalError: error,
    extensions: { ...error.extensions, code: 'GRAPHQL_VALIDATION_FAILED' },
  });
}

/** Validates `document` against the schema and formats its single error as a client would see it. */
function formatValidation(document: string): GraphQLFormattedError {
  const errors = validate(schema, parse(document)).map(asApolloValidationError);
  expect(errors).toHaveLength(1);
  const [error] = errors as [GraphQLError];
  return formatError(error.toJSON(), error);
}

const STACK = ['Error: boom', '    at resolver (/srv/app/subgraphs/accounts/account.resolver.ts:12:3)'];

describe('formatError: argument values refused by validation', () => {
  it('turns an unknown enum value inside an input object into BAD_USER_INPUT naming the argument path', () => {
    const formatted = formatValidation('{ accounts(filter: { status: NOPE }) { id } }');
    expect(formatted.message).toBe('Argument "filter.status": Value "NOPE" does not exist in "AccountStatus" enum.');
    expect(formatted.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.status' });
    expect(formatted.locations).toEqual([{ line: 1, column: 30 }]);
  });

  it('names a top-level scalar argument', () => {
    const formatted = formatValidation('{ accounts(first: "ten") { id } }');
    expect(formatted.message).toBe('Argument "first": Int cannot represent non-integer value: "ten"');
    expect(formatted.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'first' });
  });

  it('names a field nested two input objects deep', () => {
    const formatted = formatValidation('{ accounts(filter: { window: { from: 5 } }) { id } }');
    expect(formatted.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.window.from' });
    expect(formatted.message).toMatch(/^Argument "filter\.window\.from": String cannot represent/);
  });

  it('names the list field holding a bad enum value', () => {
    const formatted = formatValidation('{ accounts(filter: { statuses: [ACTIVE, NOPE] }) { id } }');
    expect(formatted.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter.statuses' });
  });

  it('names the argument holding an unknown or missing input field', () => {
    const unknown = formatValidation('{ accounts(filter: { bogus: 1 }) { id } }');
    expect(unknown.extensions).toEqual({ code: 'BAD_USER_INPUT', argument: 'filter' });
    expect(unknown.message).toBe('Argument "filter": Field "bogus" is not defined by type "AccountFilter".');

    const missing = formatValidation('{ accounts(filter: { window: { to: "2024-01-01" } }) { id } }');
    expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(missing.extensions?.argument).toMatch(/^filter/);
    expect(missing.message).toContain('Field "ActivityWindow.from" of required type "String!" was not provided.');
  });

  it('leaves errors about the document shape as GRAPHQL_VALIDATION_FAILED', () => {
    const unknownField = formatValidation('{ accounts { nope } }');
    expect(unknownField).toMatchObject({
      message: 'Cannot query field "nope" on type "Account".',
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    const unknownArgument = formatValidation('{ accounts(nope: 1) { id } }');
    expect(unknownArgument.extensions).toEqual({ code: 'GRAPHQL_VALIDATION_FAILED' });
  });

  it('still answers BAD_USER_INPUT when the error carries no document to re-read', () => {
    const formatted = formatError(
      {
        message: 'Value "NOPE" does not exist in "AccountStatus" enum.',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', stacktrace: STACK },
      },
      new Error('not a GraphQLError'),
    );
    expect(formatted).toEqual({ message: 'Value "NOPE" does not exist in "AccountStatus" enum.', extensions: { code: 'BAD_USER_INPUT' } });
  });
});

describe('formatError: codes clients rely on', () => {
  const clientCodes = Object.values(ErrorCode).filter((c) => c !== ErrorCode.INTERNAL_SERVER_ERROR);

  it.each(clientCodes)('keeps %s with its message and extra extensions, minus the stack trace', (code) => {
    const error = appError(code, `something about ${code}`, { detail: 42 });
    const json = error.toJSON();
    const formatted = formatError({ ...json, extensions: { ...json.extensions, stacktrace: STACK } }, error);
    expect(formatted.message).toBe(`something about ${code}`);
    expect(formatted.extensions).toMatchObject({ code, detail: 42 });
    expect(formatted.extensions).not.toHaveProperty('stacktrace');
  });

  it('keeps a badInput error naming its argument', () => {
    const error = badInput('first', 'must be between 0 and 500, got 501');
    expect(formatError(error.toJSON(), error)).toMatchObject({
      message: 'Argument "first": must be between 0 and 500, got 501',
      extensions: { code: 'BAD_USER_INPUT', argument: 'first' },
    });
  });

  it.each(['GRAPHQL_PARSE_FAILED', 'PERSISTED_QUERY_NOT_FOUND', 'BAD_REQUEST'])('keeps Apollo Server code %s', (code) => {
    const formatted = formatError(
      { message: 'Syntax Error: Expected Name, found <EOF>.', extensions: { code, stacktrace: STACK } },
      new GraphQLError('x'),
    );
    expect(formatted).toEqual({ message: 'Syntax Error: Expected Name, found <EOF>.', extensions: { code } });
  });
});

describe('formatError: unexpected errors', () => {
  const leaky = 'connect ECONNREFUSED 10.0.0.5:5432 (password=hunter2)';

  it('masks an unknown error as INTERNAL_SERVER_ERROR, keeping only path and locations', () => {
    const formatted = formatError(
      {
        message: leaky,
        path: ['accounts', 0, 'id'],
        locations: [{ line: 1, column: 3 }],
        extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: STACK },
      },
      new Error(leaky),
    );
    expect(formatted).toEqual({
      message: 'Internal server error',
      path: ['accounts', 0, 'id'],
      locations: [{ line: 1, column: 3 }],
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    expect(JSON.stringify(formatted)).not.toMatch(/10\.0\.0\.5|hunter2|resolver/);
  });

  it('masks errors with no extensions, or a code outside the registry', () => {
    expect(formatError({ message: leaky }, new Error(leaky))).toMatchObject({
      message: 'Internal server error',
      extensions: { code: 'INTERNAL_SERVER_ERROR' },
    });
    const odd = formatError({ message: leaky, extensions: { code: 'ECONNREFUSED', stacktrace: STACK } }, new Error(leaky));
    expect(odd).toMatchObject({ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(odd.extensions).not.toHaveProperty('stacktrace');
  });
});

describe('formatError: errors from a subgraph (at the gateway)', () => {
  it('keeps serviceName and the downstream code, without the stack trace', () => {
    const formatted = formatError(
      { message: 'Token expired', extensions: { code: 'UNAUTHENTICATED', serviceName: 'accounts', stacktrace: STACK } },
      new GraphQLError('Token expired'),
    );
    expect(formatted).toEqual({ message: 'Token expired', extensions: { code: 'UNAUTHENTICATED', serviceName: 'accounts' } });
  });

  it('keeps serviceName when masking a downstream error with no code', () => {
    const formatted = formatError(
      { message: 'socket hang up', extensions: { serviceName: 'files', stacktrace: STACK } },
      new Error('socket hang up'),
    );
    expect(formatted).toEqual({ message: 'Internal server error', extensions: { serviceName: 'files', code: 'INTERNAL_SERVER_ERROR' } });
  });
});

describe('formatError: database timeouts', () => {
  const wrapped = (sqlState: string) =>
    new GraphQLError('canceling statement due to statement timeout', {
      originalError: Object.assign(new Error('driver exception'), { previous: Object.assign(new Error('pg'), { code: sqlState }) }),
    });

  it.each([
    ['57014', 'DB_STATEMENT_TIMEOUT_MS'],
    ['55P03', 'DB_LOCK_TIMEOUT_MS'],
  ])('answers SQLSTATE %s as DATABASE_TIMEOUT naming %s, without internals', (sqlState, setting) => {
    const error = wrapped(sqlState);
    const formatted = formatError({ ...error.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR', stacktrace: STACK } }, error);
    expect(formatted.extensions).toEqual({ code: ErrorCode.DATABASE_TIMEOUT });
    expect(formatted.message).toContain(setting);
    expect(formatted.message).not.toContain('canceling statement');
  });

  it('leaves other database errors masked', () => {
    const error = wrapped('23505');
    expect(formatError({ ...error.toJSON(), extensions: { code: 'INTERNAL_SERVER_ERROR' } }, error).extensions).toEqual({
      code: 'INTERNAL_SERVER_ERROR',
    });
  });
});
