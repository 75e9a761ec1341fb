/**
 * Google's JSON error shape, the one registry of the errors the emulator answers
 * (https://developers.google.com/drive/api/guides/handle-errors, https://cloud.google.com/apis/design/errors):
 * `{ error: { code, message, errors: [{ domain, reason, message, location?, locationType? }], status } }`.
 */
export class GoogleError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly extra: {
      readonly domain?: string;
      readonly location?: string;
      readonly locationType?: 'parameter' | 'header';
      readonly headers?: Record<string, string>;
      readonly details?: readonly unknown[];
      /** The first error item's message when it differs from the top-level one. */
      readonly itemMessage?: string;
    } = {},
  ) {
    super(message);
  }

  body(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        errors: [
          {
            message: this.extra.itemMessage ?? this.message,
            domain: this.extra.domain ?? 'global',
            reason: this.reason,
            ...(this.extra.location ? { location: this.extra.location, locationType: this.extra.locationType ?? 'parameter' } : {}),
          },
        ],
        status: STATUS[this.code] ?? 'UNKNOWN',
        ...(this.extra.details ? { details: this.extra.details } : {}),
      },
    };
  }
}

/** The canonical status of each HTTP code (https://cloud.google.com/apis/design/errors#handling_errors). */
const STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A missing, unknown, expired or revoked access token (Drive's "401: Invalid Credentials"). */
export const invalidCredentials = () =>
  new GoogleError(
    401,
    'authError',
    'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.',
    {
      itemMessage: 'Invalid Credentials',
      location: 'Authorization',
      locationType: 'header',
      headers: { 'www-authenticate': 'Bearer realm="https://accounts.google.com/", error="invalid_token"' },
    },
  );

/** A token whose scopes do not include one the method lists (403 with Google's ErrorInfo `ACCESS_TOKEN_SCOPE_INSUFFICIENT`). */
export const insufficientScopes = (service: string, method: string, scopes: readonly string[]) =>
  new GoogleError(403, 'insufficientPermissions', 'Request had insufficient authentication scopes.', {
    itemMessage: 'Insufficient Permission',
    headers: {
      'www-authenticate': `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="${scopes.join(' ')}"`,
    },
    details: [
      {
        '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
        reason: 'ACCESS_TOKEN_SCOPE_INSUFFICIENT',
        domain: 'googleapis.com',
        metadata: { service, method },
      },
    ],
  });

/** The Admin SDK's answer when the impersonated user lacks the administrator privilege a method needs. */
export const notAuthorized = () => new GoogleError(403, 'forbidden', 'Not Authorized to access this resource/api');

/** A parameter whose value the API refuses ("Invalid Value", located at the parameter). */
export const invalidValue = (location: string, message = 'Invalid Value') =>
  new GoogleError(400, 'invalid', message, { location, locationType: 'parameter' });

/** A paging or size parameter outside its documented range. */
export const outOfRange = (location: string, value: string, min: number, max: number) =>
  invalidValue(location, `Invalid value '${value}'. Values must be within the range: [${min}, ${max}]`);

export const badRequest = (message = 'Bad Request') => new GoogleError(400, 'badRequest', message);

export const required = (location: string, message = 'Required') =>
  new GoogleError(400, 'required', message, { location, locationType: 'parameter' });

/** The Directory API's not-found answer (`Resource Not Found: userKey`). */
export const resourceNotFound = (what: string) => new GoogleError(404, 'notFound', `Resource Not Found: ${what}`);

export const insufficientFilePermissions = () =>
  new GoogleError(403, 'insufficientFilePermissions', 'The user does not have sufficient permissions for this file.');

export const internalError = () => new GoogleError(500, 'backendError', 'Backend Error');
