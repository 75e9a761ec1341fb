import type { admin_reports_v1 } from '@googleapis/admin';
import type { ApplicationName } from './spec.js';

type Parameter = NonNullable<NonNullable<admin_reports_v1.Schema$Activity['events']>[number]['parameters']>[number];

/** One event of an activity (https://developers.google.com/admin-sdk/reports/reference/rest/v1/activities). */
export interface EmuEvent {
  readonly type: string;
  readonly name: string;
  readonly parameters: readonly Parameter[];
}

/** An activity as the emulator keeps it: when it occurred, and when the Reports API starts answering it. */
export interface EmuActivity {
  readonly applicationName: ApplicationName;
  readonly time: number;
  /** Unique within the customer (the API's id.uniqueQualifier, an int64 as a string). */
  readonly uniqueQualifier: string;
  readonly actorId: string | null;
  readonly actorEmail: string;
  readonly ipAddress: string;
  readonly regionCode: string;
  readonly events: readonly EmuEvent[];
  readonly visibleAt: number;
}

export const param = {
  str: (name: string, value: string): Parameter => ({ name, value }),
  int: (name: string, value: number): Parameter => ({ name, intValue: String(value) }),
  bool: (name: string, boolValue: boolean): Parameter => ({ name, boolValue }),
  multi: (name: string, multiValue: string[]): Parameter => ({ name, multiValue }),
};

/** The activities of one customer, per application, newest first (ties by uniqueQualifier, descending). */
export class AuditLog {
  private readonly byApp = new Map<ApplicationName, EmuActivity[]>();
  private readonly dirty = new Set<ApplicationName>();
  private qualifier: bigint;

  constructor(seed: number) {
    // uniqueQualifier values look like Google's: large signed 64-bit decimals.
    this.qualifier = 1_000_000_000_000_000n + BigInt(seed >>> 0) * 1_000_000n;
  }

  nextQualifier(): string {
    this.qualifier += 7919n;
    return String(this.qualifier);
  }

  add(activity: EmuActivity): EmuActivity {
    (this.byApp.get(activity.applicationName) ?? this.byApp.set(activity.applicationName, []).get(activity.applicationName)!).push(
      activity,
    );
    this.dirty.add(activity.applicationName);
    return activity;
  }

  /** Every activity of `app`, newest first. */
  of(app: ApplicationName): readonly EmuActivity[] {
    const list = this.byApp.get(app) ?? [];
    if (this.dirty.delete(app)) list.sort(newestFirst);
    return list;
  }

  all(): EmuActivity[] {
    return [...this.byApp.values()].flat();
  }
}

/** The Reports API's order: newest first; activities of the same millisecond by uniqueQualifier, descending. */
export function newestFirst(a: Pick<EmuActivity, 'time' | 'uniqueQualifier'>, b: Pick<EmuActivity, 'time' | 'uniqueQualifier'>): number {
  if (a.time !== b.time) return b.time - a.time;
  const qa = BigInt(a.uniqueQualifier);
  const qb = BigInt(b.uniqueQualifier);
  return qa === qb ? 0 : qa < qb ? 1 : -1;
}
