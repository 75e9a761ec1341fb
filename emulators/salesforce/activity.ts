import { EVENT_TYPES, logTimestamp, type EventType, type LogEvent } from './eventlog.js';
import { OrgState } from './org.js';
import type { Row } from './store.js';

/**
 * Audit data of an org: LoginHistory (with LoginGeo), SetupAuditTrail and Event Monitoring's log events,
 * generated at start and on demand (late and past records).
 */

const GEOS = [
  {
    Country: 'United States',
    CountryIso: 'US',
    City: 'San Francisco',
    Subdivision: 'California',
    Latitude: 37.77,
    Longitude: -122.42,
    net: '203.0.113',
  },
  {
    Country: 'United States',
    CountryIso: 'US',
    City: 'New York',
    Subdivision: 'New York',
    Latitude: 40.71,
    Longitude: -74.0,
    net: '203.0.113',
  },
  {
    Country: 'United Kingdom',
    CountryIso: 'GB',
    City: 'London',
    Subdivision: 'England',
    Latitude: 51.5,
    Longitude: -0.12,
    net: '198.51.100',
  },
  { Country: 'Germany', CountryIso: 'DE', City: 'Berlin', Subdivision: 'Berlin', Latitude: 52.52, Longitude: 13.4, net: '198.51.100' },
  { Country: 'Brazil', CountryIso: 'BR', City: 'São Paulo', Subdivision: 'São Paulo', Latitude: -23.55, Longitude: -46.63, net: '192.0.2' },
  { Country: 'Russia', CountryIso: 'RU', City: 'Moscow', Subdivision: 'Moscow', Latitude: 55.75, Longitude: 37.62, net: '192.0.2' },
  { Country: 'Nigeria', CountryIso: 'NG', City: 'Lagos', Subdivision: 'Lagos', Latitude: 6.52, Longitude: 3.38, net: '192.0.2' },
] as const;
const HOME = [0, 0, 0, 0, 1, 1, 2];
const BROWSERS = [
  ['Chrome 131', 'Windows 10'],
  ['Chrome 131', 'Mac OSX'],
  ['Safari 18', 'Mac OSX'],
  ['Firefox 133', 'Windows 10'],
  ['Mobile Safari 18', 'iOS'],
] as const;
const SETUP_ACTIONS = [
  ['createduser', 'Manage Users', 'Created new user {user}'],
  ['changedprofileforuser', 'Manage Users', 'Changed profile for user {user} from Standard User to Marketing User'],
  ['PermSetAssign', 'Manage Users', 'Permission set Data Export Admin: assigned to user {user}'],
  ['resetpassword', 'Manage Users', 'Reset password for {user}'],
  ['frozeuser', 'Manage Users', 'Froze user {user}'],
  ['changedsessiontimeout', 'Session Settings', 'Changed session timeout from 2 hours to 8 hours'],
  ['connectedAppPolicyChanged', 'Connected Apps', 'Changed permitted users policy of connected app Zapier'],
] as const;

export class OrgActivity {
  /** Active internal users, the ones who sign in and act. */
  private actors: Row[] = [];
  private admins: Row[] = [];
  private documents: Row[] = [];

  constructor(private readonly org: OrgState) {}

  refreshActors(): void {
    const users = [...this.org.table('User').rows.values()];
    this.actors = users.filter((u) => u.IsActive && u.UserType === 'Standard');
    const adminProfile = [...this.org.table('Profile').rows.values()].find((p) => p.Name === 'System Administrator')?.Id;
    this.admins = this.actors.filter((u) => u.ProfileId === adminProfile);
    this.documents = [...this.org.table('ContentDocument').rows.values()];
  }

  /** A sign-in (LoginHistory with its LoginGeo) at `at`, visible to queries from `visibleAt`. */
  login(at: number, now: number, visibleAt: number, user = this.org.rng.pick(this.actors)): Row {
    const rng = this.org.rng;
    const geo = GEOS[rng.chance(0.06) ? rng.int(3, GEOS.length - 1) : rng.pick(HOME)]!;
    const failed = rng.chance(0.08);
    const [browser, platform] = rng.pick(BROWSERS);
    const api = rng.chance(0.2);
    const geoRow = this.org.insert(
      'LoginGeo',
      {
        City: geo.City,
        Country: geo.Country,
        CountryIso: geo.CountryIso,
        Subdivision: geo.Subdivision,
        Latitude: geo.Latitude,
        Longitude: geo.Longitude,
        LoginTime: at,
      },
      at,
    );
    const row = this.org.insert(
      'LoginHistory',
      {
        UserId: user.Id,
        LoginTime: at,
        LoginType: api ? 'Remote Access 2.0' : 'Application',
        SourceIp: `${geo.net}.${rng.int(1, 254)}`,
        Status: failed ? 'Invalid Password' : 'Success',
        Browser: api ? 'Unknown' : browser,
        Platform: api ? 'Unknown' : platform,
        Application: api ? rng.pick(['Dataloader Partner', 'Zapier', 'Salesforce for iOS']) : 'Browser',
        ClientVersion: 'N/A',
        ApiType: api ? 'REST' : 'N/A',
        ApiVersion: api ? '62.0' : 'N/A',
        LoginUrl: `${this.org.spec.domain.split('.')[0]}.my.salesforce.com`,
        LoginGeoId: geoRow.Id,
        TlsProtocol: 'TLS 1.3',
        CipherSuite: 'TLS_AES_256_GCM_SHA384',
      },
      at,
    );
    if (visibleAt > now) row._visibleAt = geoRow._visibleAt = visibleAt;
    if (!failed && (typeof user.LastLoginDate !== 'number' || user.LastLoginDate < at)) user.LastLoginDate = at;
    if (this.org.spec.eventLogFiles)
      this.event('Login', at, user, {
        LOGIN_STATUS: failed ? 'LOGIN_ERROR_INVALID_PASSWORD' : 'LOGIN_NO_ERROR',
        USER_NAME: String(user.Username),
        BROWSER_TYPE: String(row.Browser),
        API_TYPE: api ? 'R' : '',
        API_VERSION: api ? '62.0' : '',
        SOURCE_IP: String(row.SourceIp),
        CLIENT_IP: String(row.SourceIp),
        TLS_PROTOCOL: 'TLSv1.3',
        CIPHER_SUITE: 'TLS_AES_256_GCM_SHA384',
        URI: '/index.jsp',
      });
    return row;
  }

  /** A SetupAuditTrail entry at `at`, visible from `visibleAt`. */
  setupChange(at: number, now: number, visibleAt: number): Row {
    const rng = this.org.rng;
    const [Action, Section, display] = rng.pick(SETUP_ACTIONS);
    const by = this.admins.length ? rng.pick(this.admins) : rng.pick(this.actors);
    const target = rng.pick(this.actors);
    const row = this.org.insert(
      'SetupAuditTrail',
      {
        Action,
        Section,
        Display: display.replace('{user}', String(target.Username)),
        CreatedDate: at,
        CreatedById: by.Id,
        DelegateUser: rng.chance(0.05) ? String(this.admins[0]?.Username ?? by.Username) : null,
        ResponsibleNamespacePrefix: null,
        CreatedByContext: null,
        CreatedByIssuer: null,
      },
      at,
    );
    if (visibleAt > now) row._visibleAt = visibleAt;
    return row;
  }

  /** An Event Monitoring event of `type` (not yet in any log file). */
  event(type: EventType, at: number, user = this.org.rng.pick(this.actors), extra: Record<string, string> = {}): LogEvent {
    const rng = this.org.rng;
    const org15 = this.org.organizationId.slice(0, 15);
    const values: Record<string, string> = {
      EVENT_TYPE: type,
      TIMESTAMP: logTimestamp(at),
      REQUEST_ID: `${rng.hex(8)}${rng.hex(3)}`.slice(0, 22),
      ORGANIZATION_ID: org15,
      USER_ID: user.Id.slice(0, 15),
      USER_ID_DERIVED: user.Id,
      TIMESTAMP_DERIVED: new Date(at).toISOString(),
      RUN_TIME: String(rng.int(5, 900)),
      CPU_TIME: String(rng.int(1, 200)),
      DB_TOTAL_TIME: String(rng.int(1000, 90_000_000)),
      SESSION_KEY: rng.hex(8),
      LOGIN_KEY: rng.hex(8),
      USER_TYPE: 'S',
      REQUEST_STATUS: 'S',
      CLIENT_IP: `203.0.113.${rng.int(1, 254)}`,
      ...this.details(type),
      ...extra,
    };
    const event: LogEvent = { eventType: type, requestId: values.REQUEST_ID!, at, values, files: [] };
    this.org.logEvents.push(event);
    return event;
  }

  private details(type: EventType): Record<string, string> {
    const rng = this.org.rng;
    switch (type) {
      case 'ReportExport': {
        const report = `00O${rng.hex(6)}`.slice(0, 15);
        return {
          CLIENT_INFO: 'Mozilla/5.0',
          REPORT_DESCRIPTION: rng.pick(['All Opportunities', 'Contacts with Email', 'Pipeline by Owner']),
          URI: `/${report}`,
          URI_ID_DERIVED: report,
        };
      }
      case 'ContentTransfer': {
        const document = this.documents.length ? rng.pick(this.documents) : null;
        const version = String(document?.LatestPublishedVersionId ?? '');
        return {
          URI: '/sfc/servlet.shepherd/version/download',
          TRANSACTION_TYPE: rng.pick(['VersionDownloadAction', 'VersionDownloadApi', 'VersionRenditionDownload']),
          SIZE_BYTES: String(document?.ContentSize ?? 0),
          FILE_TYPE: String(document?.FileType ?? 'UNKNOWN'),
          FILE_PREVIEW_TYPE: 'SVGZ',
          VERSION_ID: version.slice(0, 15),
          VERSION_ID_DERIVED: version,
          DOCUMENT_ID: String(document?.Id ?? '').slice(0, 15),
          DOCUMENT_ID_DERIVED: String(document?.Id ?? ''),
        };
      }
      case 'API':
        return {
          URI: '/services/data/v62.0/query',
          API_TYPE: 'R',
          API_VERSION: '62.0',
          CLIENT_NAME: rng.pick(['Zapier', 'Dataloader Partner', '']),
          METHOD_NAME: 'query',
          ENTITY_NAME: rng.pick(['Account', 'Contact', 'Opportunity', 'User']),
          ROWS_PROCESSED: String(rng.int(1, 2000)),
          REQUEST_SIZE: String(rng.int(100, 2000)),
          RESPONSE_SIZE: String(rng.int(1000, 900_000)),
        };
      default:
        return {};
    }
  }

  /** Event log files for every hour and day of `events` (which happened up to `now`): each appears the latency after its period ends. */
  writeLogFiles(events: readonly LogEvent[], now: number): void {
    const latency = this.org.spec.eventLogLatencyMinutes * 60_000;
    const groups = new Map<string, { type: EventType; interval: 'Hourly' | 'Daily'; logDate: number; events: LogEvent[] }>();
    for (const event of events) {
      const hour = OrgState.hourOf(event.at);
      const day = Math.floor(event.at / 86_400_000) * 86_400_000;
      for (const [interval, logDate] of [
        ['Hourly', hour],
        ['Daily', day],
      ] as const) {
        const k = `${event.eventType}|${interval}|${logDate}`;
        let group = groups.get(k);
        if (!group) groups.set(k, (group = { type: event.eventType, interval, logDate, events: [] }));
        group.events.push(event);
      }
    }
    const ordered = [...groups.values()].sort((a, b) => a.logDate - b.logDate || EVENT_TYPES.indexOf(a.type) - EVENT_TYPES.indexOf(b.type));
    for (const group of ordered) {
      const end = group.logDate + (group.interval === 'Hourly' ? 3_600_000 : 86_400_000);
      group.events.sort((a, b) => a.at - b.at);
      this.org.addLogFile(group.type, group.interval, group.logDate, group.events, end + latency, now);
    }
  }
}
