import { param, type EmuActivity, type EmuEvent } from './audit-log.js';
import type { EmuFile } from './drive-store.js';
import { APPLICATIONS, type ApplicationName } from './spec.js';
import type { CustomerState, EmuUser } from './tenant.js';

/** Countries of ordinary sign-ins and of the suspicious ones (ISO 3166-1 alpha-2, as networkInfo.regionCode). */
const HOME_REGIONS = ['US', 'US', 'US', 'GB', 'DE', 'FR'];
const SUSPICIOUS_REGIONS = ['KP', 'IR', 'RU'];
const MS_PER_DAY = 86_400_000;

/**
 * The customer's audit activity for the Reports API: the backfill, and activities made by the control
 * knobs (late, past). Login events (successes, failures, suspicious countries), admin events, Drive
 * access events naming real files, and OAuth token authorizations naming real apps
 * (https://developers.google.com/admin-sdk/reports/v1/appendix/activity/login and its siblings).
 */
export class ActivityGenerator {
  constructor(private readonly state: CustomerState) {}

  backfill(now: number): void {
    const rng = this.state.rng;
    const spec = this.state.spec;
    const from = now - spec.backfillDays * MS_PER_DAY;
    const count = Math.round(this.state.users.length * spec.eventsPerUserPerDay * spec.backfillDays);
    for (let k = 0; k < count; k++) this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, from + rng.next() * (now - from), now);
    // A burst of failed sign-ins from a suspicious country against one user, then a success from there.
    const target = this.state.users.find((u) => !u.isAdmin && !u.suspended);
    if (target && spec.backfillDays > 0) {
      const at = now - Math.min(spec.backfillDays * MS_PER_DAY, 6 * 3_600_000);
      for (let k = 0; k < 6; k++) this.addLogin(at + k * 20_000, now, undefined, { user: target, failed: k < 5, region: 'KP' });
    }
  }

  /** An activity of `app` that occurred at `at`, visible after up to the app's latency (or at `visibleAt`). */
  addActivity(app: ApplicationName, at: number, now: number, visibleAt?: number): EmuActivity {
    switch (app) {
      case 'login':
        return this.addLogin(at, now, visibleAt);
      case 'admin':
        return this.addAdmin(at, now, visibleAt);
      case 'drive':
        return this.addDriveEvent(at, now, visibleAt);
      case 'token':
        return this.addTokenEvent(at, now, visibleAt);
    }
  }

  private activity(
    app: ApplicationName,
    at: number,
    _now: number,
    visibleAt: number | undefined,
    actor: EmuUser | null,
    region: string,
    events: EmuEvent[],
  ): EmuActivity {
    const rng = this.state.rng;
    const latency = this.state.spec.latencyMs[app];
    return this.state.audit.add({
      applicationName: app,
      time: Math.floor(at),
      uniqueQualifier: this.state.audit.nextQualifier(),
      actorId: actor?.id ?? null,
      actorEmail: actor?.primaryEmail ?? '',
      ipAddress: region === 'US' ? `198.51.100.${rng.int(1, 254)}` : `203.0.113.${rng.int(1, 254)}`,
      regionCode: region,
      events,
      // Each activity becomes visible after a random share of its application's latency.
      visibleAt: visibleAt ?? at + rng.next() * latency,
    });
  }

  private someUser(): EmuUser {
    return this.state.rng.pick(this.state.users);
  }

  private addLogin(at: number, now: number, visibleAt?: number, fixed?: { user: EmuUser; failed: boolean; region: string }): EmuActivity {
    const rng = this.state.rng;
    const user = fixed?.user ?? this.someUser();
    const failed = fixed?.failed ?? rng.chance(0.1);
    const region = fixed?.region ?? (rng.chance(0.03) ? rng.pick(SUSPICIOUS_REGIONS) : rng.pick(HOME_REGIONS));
    const suspicious = !HOME_REGIONS.includes(region);
    const events: EmuEvent[] = failed
      ? [
          {
            type: 'login',
            name: 'login_failure',
            parameters: [
              param.str('login_type', 'google_password'),
              param.str('login_failure_type', 'login_failure_invalid_password'),
              param.bool('is_suspicious', suspicious),
            ],
          },
        ]
      : [
          {
            type: 'login',
            name: 'login_success',
            parameters: [param.str('login_type', 'google_password'), param.bool('is_suspicious', suspicious)],
          },
        ];
    return this.activity('login', at, now, visibleAt, user, region, events);
  }

  private adminCache: EmuUser[] | null = null;
  private addAdmin(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.state.rng;
    this.adminCache ??= this.state.users.filter((u) => u.isAdmin);
    const actor = rng.pick(this.adminCache.length ? this.adminCache : this.state.users);
    const target = this.someUser();
    const events: EmuEvent[][] = [
      [{ type: 'USER_SETTINGS', name: 'SUSPEND_USER', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
      [{ type: 'USER_SETTINGS', name: 'CHANGE_PASSWORD', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
      [
        {
          type: 'DELEGATED_ADMIN_SETTINGS',
          name: 'ASSIGN_ROLE',
          parameters: [param.str('USER_EMAIL', target.primaryEmail), param.str('ROLE_NAME', '_HELP_DESK_ADMIN_ROLE')],
        },
      ],
      [{ type: 'USER_SETTINGS', name: 'CREATE_USER', parameters: [param.str('USER_EMAIL', target.primaryEmail)] }],
    ];
    return this.activity('admin', at, now, visibleAt, actor, 'US', rng.pick(events));
  }

  private addDriveEvent(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.state.rng;
    const file = this.someFile();
    const user = this.someUser();
    if (!file) return this.addLogin(at, now, visibleAt);
    const owner = file.ownerId ? this.state.usersById.get(file.ownerId) : undefined;
    const name = rng.pick(['view', 'download', 'edit', 'download', 'change_user_access']);
    const parameters = [
      param.bool('primary_event', true),
      param.str('doc_id', file.id),
      param.str('doc_title', file.name),
      param.str('doc_type', docType(file.mimeType)),
      param.str('owner', owner?.primaryEmail ?? ''),
      param.str('visibility', visibility(file, this.state.spec.domain)),
    ];
    return this.activity('drive', at, now, visibleAt, user, rng.pick(HOME_REGIONS), [
      { type: name === 'change_user_access' ? 'acl_change' : 'access', name, parameters },
    ]);
  }

  private fileCache: EmuFile[] | null = null;
  /** A live file that is no folder, picked at random (null when there is none). */
  private someFile(): EmuFile | null {
    this.fileCache ??= [...this.state.drive.files.values()].filter((f) => !f.root && f.mimeType !== 'application/vnd.google-apps.folder');
    for (let tries = 0; tries < 20 && this.fileCache.length > 0; tries++) {
      const file = this.state.rng.pick(this.fileCache);
      if (!file.deleted) return file;
    }
    return null;
  }

  private addTokenEvent(at: number, now: number, visibleAt?: number): EmuActivity {
    const rng = this.state.rng;
    const token = this.state.tokens.length ? rng.pick(this.state.tokens) : null;
    const app = token ? this.state.apps.find((a) => a.clientId === token.clientId)! : rng.pick(this.state.apps);
    const user = token ? (this.state.usersById.get(token.userId) ?? this.someUser()) : this.someUser();
    const events: EmuEvent[] = [
      {
        type: 'auth',
        name: 'authorize',
        parameters: [
          param.str('client_id', app.clientId),
          param.str('app_name', app.displayText),
          param.str('client_type', app.nativeApp ? 'NATIVE_DESKTOP' : 'WEB'),
          param.multi('scope', app.scopes),
        ],
      },
    ];
    return this.activity('token', at, now, visibleAt, user, rng.pick(HOME_REGIONS), events);
  }

  /** Activities that happen now and become visible up to `lateMs` later, over the four applications; answers them. */
  lateActivities(count: number, lateMs: number, now: number): EmuActivity[] {
    return Array.from({ length: count }, (_, k) =>
      this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, now, now, now + this.state.rng.next() * lateMs),
    );
  }

  /** Activities that occurred `agoMs` ago and become visible only now (beyond the documented lag, as the docs warn can happen). */
  pastActivities(count: number, agoMs: number, now: number): EmuActivity[] {
    return Array.from({ length: count }, (_, k) => this.addActivity(APPLICATIONS[k % APPLICATIONS.length]!, now - agoMs, now, now));
  }
}

function docType(mimeType: string): string {
  if (mimeType === 'application/vnd.google-apps.document') return 'document';
  if (mimeType === 'application/vnd.google-apps.spreadsheet') return 'spreadsheet';
  if (mimeType === 'application/vnd.google-apps.presentation') return 'presentation';
  if (mimeType === 'application/pdf') return 'pdf';
  return 'unknown';
}

/** The Drive audit `visibility` parameter of a file from its permissions. */
export function visibility(file: EmuFile, domain: string): string {
  if (file.permissions.some((p) => p.type === 'anyone')) return 'people_with_link';
  if (file.permissions.some((p) => p.type === 'domain')) return 'shared_internally';
  if (file.permissions.some((p) => p.type === 'user' && p.emailAddress && !p.emailAddress.endsWith(`@${domain}`)))
    return 'shared_externally';
  if (file.permissions.some((p) => p.role !== 'owner')) return 'shared_internally';
  return 'private';
}
