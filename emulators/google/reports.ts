import { newestFirst, type EmuActivity } from './audit-log.js';
import { badRequest, invalidValue, notAuthorized } from './errors.js';
import { intParam, json, type PageTokens, type Route } from './routes.js';
import { APPLICATIONS, SCOPES, type ApplicationName } from './spec.js';
import { wireActivity } from './wire.js';

/** Every application name activities.list accepts; the emulator records activities for four of them, the others answer none. */
const KNOWN_APPLICATIONS = [
  'access_transparency',
  'admin',
  'calendar',
  'chat',
  'chrome',
  'context_aware_access',
  'data_studio',
  'drive',
  'gcp',
  'gplus',
  'groups',
  'groups_enterprise',
  'jamboard',
  'keep',
  'login',
  'meet',
  'mobile',
  'rules',
  'saml',
  'token',
  'user_accounts',
  'vault',
];

/** The RFC 3339 pattern the Reports API quotes when it refuses a time. */
const TIME_PATTERN = '(\\d\\d\\d\\d)-(\\d\\d)-(\\d\\d)T(\\d\\d):(\\d\\d):(\\d\\d)(?:\\.(\\d+))?(?:(Z)|([-+])(\\d\\d):(\\d\\d))';
const TIME = new RegExp(`^${TIME_PATTERN}$`);

function time(query: URLSearchParams, name: string): number | null {
  const raw = query.get(name);
  if (raw === null) return null;
  const at = TIME.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(at))
    throw invalidValue(name, `Invalid value '${raw}'. Values must match the following regular expression: '${TIME_PATTERN}'`);
  return at;
}

interface Position {
  readonly t: number;
  readonly q: string;
}

/**
 * The Reports API's activities.list (https://developers.google.com/admin-sdk/reports/reference/rest/v1/activities/list):
 * newest first, `startTime`/`endTime` (RFC 3339) on the activity's time, `maxResults` 1–1,000 (1,000 by
 * default), `pageToken`, `eventName`, `actorIpAddress`; only activities past their lag are answered
 * (https://support.google.com/a/answer/7061566). Pages continue after the last activity answered, so an
 * activity that becomes visible meanwhile in an earlier part of the list is not answered by later pages.
 */
export function reportsRoutes(pages: PageTokens): Route[] {
  return [
    {
      method: 'GET',
      pattern: /^\/admin\/reports\/v1\/activity\/users\/([^/]+)\/applications\/([^/]+)$/,
      api: 'reports',
      name: 'reports.activities.list',
      scopes: [SCOPES.audit],
      privilege: 'REPORTS_RETRIEVE',
      handle: (ctx) => {
        const { query, customer } = ctx;
        const app = decodeURIComponent(ctx.params[1]!);
        if (!KNOWN_APPLICATIONS.includes(app))
          throw invalidValue(
            'applicationName',
            `Invalid value '${app}'. Values must match the following regular expression: '${KNOWN_APPLICATIONS.map((a) => `(${a})`).join('|')}'`,
          );
        const userKey = decodeURIComponent(ctx.params[0]!);
        const actor = userKey === 'all' ? null : customer.state.user(userKey);
        if (userKey !== 'all' && !actor) throw badRequest();
        const customerId = query.get('customerId');
        if (customerId && customerId !== customer.customerId) throw notAuthorized();
        const start = time(query, 'startTime');
        const end = time(query, 'endTime');
        if (start !== null && end !== null && start > end) throw badRequest('Start time must be less than or equal to the end time.');
        const size = intParam(query, 'maxResults', 1000, 1, 1000);
        const eventNames = query.get('eventName')?.split(',');
        const ip = query.get('actorIpAddress');
        const list = `activities:${app}:${userKey}:${start}:${end}:${query.get('eventName') ?? ''}:${ip ?? ''}`;
        const after = pages.read<Position>(list, query.get('pageToken'));
        const all = (APPLICATIONS as readonly string[]).includes(app) ? customer.state.audit.of(app as ApplicationName) : [];
        const out: EmuActivity[] = [];
        let more = false;
        for (const a of all) {
          if (a.visibleAt > ctx.now) continue;
          if (after && newestFirst(a, { time: after.t, uniqueQualifier: after.q }) <= 0) continue;
          if ((start !== null && a.time < start) || (end !== null && a.time > end)) continue;
          if (actor && a.actorId !== actor.id) continue;
          if (eventNames && !a.events.some((e) => eventNames.includes(e.name))) continue;
          if (ip && a.ipAddress !== ip) continue;
          if (out.length === size) {
            more = true;
            break;
          }
          out.push(a);
        }
        const last = out[out.length - 1];
        return json({
          kind: 'admin#reports#activities',
          etag: `"${app}-${out.length}"`,
          ...(out.length ? { items: out.map((a) => wireActivity(a, customer.customerId)) } : {}),
          ...(more && last ? { nextPageToken: pages.make(list, { t: last.time, q: last.uniqueQualifier } satisfies Position) } : {}),
        });
      },
    },
  ];
}
