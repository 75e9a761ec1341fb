/** A refusal the API answers as `status` with JSON `{ error: code, message }`. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/** 404 for an id the tenant does not have (or no longer has). */
export function notFound(kind: string, id: string): ApiError {
  return new ApiError(404, 'not_found', `${kind} ${id} not found`);
}
