import { ApiError } from './errors.js';
import { dispatch, type RestRequest } from './rest.js';
import type { Reply } from './sobjects.js';

/**
 * `POST /composite` (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm):
 * up to 25 subrequests run in order in one API request, of which at most 5 queries or collections; a
 * later one names an earlier one's result with `@{referenceId.path}`; with `allOrNone` the first failure
 * rolls every write back and the others answer PROCESSING_HALTED.
 */

interface Subrequest {
  readonly method: string;
  readonly url: string;
  readonly referenceId: string;
  readonly body?: unknown;
  readonly httpHeaders?: Record<string, string>;
}

const MAX_SUBREQUESTS = 25;
const MAX_QUERIES = 5;
const URL_SHAPE = /^\/services\/data\/v(\d+\.\d)(\/[^?]*)?(?:\?(.*))?$/;

const halted = (message: string) => [{ errorCode: 'PROCESSING_HALTED', message }];

function parse(body: unknown): { allOrNone: boolean; subrequests: Subrequest[] } {
  const value = (body ?? {}) as { allOrNone?: unknown; compositeRequest?: unknown };
  if (!Array.isArray(value.compositeRequest) || value.compositeRequest.length === 0)
    throw new ApiError(400, 'JSON_PARSER_ERROR', 'compositeRequest: a list of 1 to 25 subrequests is required');
  if (value.compositeRequest.length > MAX_SUBREQUESTS)
    throw new ApiError(400, 'LIMIT_EXCEEDED', `A composite request can have at most ${MAX_SUBREQUESTS} subrequests`);
  const seen = new Set<string>();
  const subrequests = value.compositeRequest.map((item: unknown) => {
    const s = (item ?? {}) as Partial<Subrequest>;
    if (
      typeof s.method !== 'string' ||
      typeof s.url !== 'string' ||
      typeof s.referenceId !== 'string' ||
      !/^[A-Za-z]\w*$/.test(s.referenceId)
    )
      throw new ApiError(
        400,
        'JSON_PARSER_ERROR',
        'Each subrequest needs a method, a url and a referenceId made of letters, digits and underscores',
      );
    if (seen.has(s.referenceId))
      throw new ApiError(400, 'DUPLICATE_VALUE', `Duplicate referenceId provided in the request: ${s.referenceId}`);
    seen.add(s.referenceId);
    return s as Subrequest;
  });
  const queries = subrequests.filter((s) => /\/(query|queryAll|composite\/sobjects)\b/.test(s.url)).length;
  if (queries > MAX_QUERIES)
    throw new ApiError(
      400,
      'LIMIT_EXCEEDED',
      `A composite request can have at most ${MAX_QUERIES} query or sObject Collection subrequests`,
    );
  return { allOrNone: value.allOrNone === true, subrequests };
}

/** Replaces `@{ref.path}` in a string with the value at `path` of the earlier answer `ref`. */
function substitute(text: string, results: Map<string, unknown>): string {
  return text.replace(/@\{([A-Za-z]\w*)((?:\.[A-Za-z_]\w*|\[\d+\])+)\}/g, (whole, ref: string, path: string) => {
    if (!results.has(ref))
      throw new ApiError(
        400,
        'PROCESSING_HALTED',
        `Invalid reference specified. No value for ${ref}${path} found in ${ref}. Provided referenceId ('${ref}') is not valid.`,
      );
    let value: unknown = results.get(ref);
    for (const step of path.match(/\.[A-Za-z_]\w*|\[\d+\]/g) ?? []) {
      const k = step.startsWith('[') ? Number(step.slice(1, -1)) : step.slice(1);
      value = value && typeof value === 'object' ? (value as Record<string | number, unknown>)[k] : undefined;
    }
    if (value === undefined || value === null || typeof value === 'object')
      throw new ApiError(400, 'PROCESSING_HALTED', `Invalid reference specified. No value for ${ref}${path} found in ${ref}.`);
    void whole;
    return String(value);
  });
}

function runOne(req: RestRequest, sub: Subrequest, results: Map<string, unknown>, versions: readonly string[]): Reply {
  try {
    const url = substitute(sub.url, results);
    const match = URL_SHAPE.exec(url);
    if (!match || !versions.includes(match[1]!)) throw new ApiError(404, 'NOT_FOUND', 'The requested resource does not exist');
    const body = sub.body === undefined ? undefined : JSON.parse(substitute(JSON.stringify(sub.body), results));
    return dispatch({
      ...req,
      method: sub.method.toUpperCase(),
      path: match[2] ?? '/',
      query: new URLSearchParams(match[3] ?? ''),
      body,
      headers: { ...req.headers, ...lower(sub.httpHeaders) },
      version: match[1]!,
    });
  } catch (error) {
    if (error instanceof ApiError) return { status: error.status, json: error.body() };
    throw error;
  }
}

function lower(headers: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
}

export function composite(req: RestRequest, versions: readonly string[]): Reply {
  const { allOrNone, subrequests } = parse(req.body);
  const results = new Map<string, unknown>();
  const answers: { body: unknown; httpHeaders: Record<string, string>; httpStatusCode: number; referenceId: string }[] = [];
  const work = () => {
    for (const sub of subrequests) {
      const reply = runOne(req, sub, results, versions);
      const body = reply.json ?? null;
      const id = reply.status === 201 && body && typeof body === 'object' && 'id' in body ? String((body as { id: unknown }).id) : null;
      answers.push({
        body,
        httpHeaders: id ? { Location: `/services/data/v${req.version}/sobjects/${sub.url.split('/')[5] ?? ''}/${id}` } : {},
        httpStatusCode: reply.status,
        referenceId: sub.referenceId,
      });
      if (reply.status < 400) results.set(sub.referenceId, body);
      else if (allOrNone) return false;
    }
    return true;
  };
  const completed = allOrNone ? req.org.state.store.transaction(work, (ok) => !ok) : work();
  if (!completed) {
    const failedAt = answers.length - 1;
    const rolledBack = halted('The transaction was rolled back since another operation in the same transaction failed.');
    for (let k = 0; k < answers.length; k++)
      if (k !== failedAt) answers[k] = { ...answers[k]!, body: rolledBack, httpHeaders: {}, httpStatusCode: 400 };
    for (const sub of subrequests.slice(answers.length))
      answers.push({ body: rolledBack, httpHeaders: {}, httpStatusCode: 400, referenceId: sub.referenceId });
  }
  return { status: 200, json: { compositeResponse: answers } };
}
