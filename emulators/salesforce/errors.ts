/**
 * A REST API error, answered as Salesforce does: the HTTP status and a JSON array of
 * `{ message, errorCode }` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
    readonly fields?: readonly string[],
  ) {
    super(message);
  }

  body(): { message: string; errorCode: string; fields?: readonly string[] }[] {
    return [{ message: this.message, errorCode: this.errorCode, ...(this.fields ? { fields: this.fields } : {}) }];
  }
}

/** An OAuth token endpoint error: `{ error, error_description }` (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm). */
export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
  ) {
    super(description);
  }
}

export const invalidSession = () => new ApiError(401, 'INVALID_SESSION_ID', 'Session expired or invalid');
export const notFound = () => new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
export const badJson = (detail: string) => new ApiError(400, 'JSON_PARSER_ERROR', detail);

/**
 * A SOQL error as the query resource answers it: the statement, a caret under the column where it went
 * wrong, `ERROR at Row:1:Column:N` and what went wrong (MALFORMED_QUERY, INVALID_FIELD, INVALID_TYPE,
 * INVALID_QUERY_FILTER_OPERATOR).
 */
export function soqlError(errorCode: string, soql: string, position: number, text: string): ApiError {
  const before = soql.slice(0, position);
  const row = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  const lineEnd = soql.indexOf('\n', position);
  const line = soql.slice(lineStart, lineEnd === -1 ? undefined : lineEnd);
  const column = position - lineStart + 1;
  return new ApiError(400, errorCode, `\n${line}\n${' '.repeat(column - 1)}^\nERROR at Row:${row}:Column:${column}\n${text}`);
}
