/**
 * The ranges SOQL's date literals stand for, in the org's time zone (GMT in the emulator), weeks
 * starting on Sunday as in the en_US locale
 * (https://developer.salesforce.com/docs/atlas.en-us.soql_sosl.meta/soql_sosl/sforce_api_calls_soql_select_dateformats.htm).
 * A literal is a half-open range [start, end) in epoch milliseconds.
 */
const DAY = 86_400_000;

function startOfDay(ms: number): number {
  return Math.floor(ms / DAY) * DAY;
}

function monthStart(ms: number, deltaMonths: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + deltaMonths, 1);
}

export function dateConstantRange(name: string, n: number | null, now: number): { start: number; end: number } {
  const today = startOfDay(now);
  const week = today - new Date(today).getUTCDay() * DAY;
  const k = n ?? 0;
  switch (name) {
    case 'TODAY':
      return { start: today, end: today + DAY };
    case 'YESTERDAY':
      return { start: today - DAY, end: today };
    case 'TOMORROW':
      return { start: today + DAY, end: today + 2 * DAY };
    case 'LAST_WEEK':
      return { start: week - 7 * DAY, end: week };
    case 'THIS_WEEK':
      return { start: week, end: week + 7 * DAY };
    case 'NEXT_WEEK':
      return { start: week + 7 * DAY, end: week + 14 * DAY };
    case 'LAST_MONTH':
      return { start: monthStart(now, -1), end: monthStart(now, 0) };
    case 'THIS_MONTH':
      return { start: monthStart(now, 0), end: monthStart(now, 1) };
    case 'NEXT_MONTH':
      return { start: monthStart(now, 1), end: monthStart(now, 2) };
    case 'THIS_YEAR':
      return { start: Date.UTC(new Date(now).getUTCFullYear(), 0, 1), end: Date.UTC(new Date(now).getUTCFullYear() + 1, 0, 1) };
    case 'LAST_YEAR':
      return { start: Date.UTC(new Date(now).getUTCFullYear() - 1, 0, 1), end: Date.UTC(new Date(now).getUTCFullYear(), 0, 1) };
    // "Starts 00:00:00 of the current day and continues for the past n days": today and the n days before.
    case 'LAST_90_DAYS':
      return { start: today - 90 * DAY, end: today + DAY };
    case 'LAST_N_DAYS':
      return { start: today - k * DAY, end: today + DAY };
    // "Starts 00:00:00 of the next day and continues for the next n days".
    case 'NEXT_90_DAYS':
      return { start: today + DAY, end: today + 91 * DAY };
    case 'NEXT_N_DAYS':
      return { start: today + DAY, end: today + (k + 1) * DAY };
    case 'N_DAYS_AGO':
      return { start: today - k * DAY, end: today - (k - 1) * DAY };
    case 'LAST_N_WEEKS':
      return { start: week - k * 7 * DAY, end: week };
    case 'NEXT_N_WEEKS':
      return { start: week + 7 * DAY, end: week + (k + 1) * 7 * DAY };
    case 'LAST_N_MONTHS':
      return { start: monthStart(now, -k), end: monthStart(now, 0) };
    default:
      throw new Error(`unknown date literal ${name}`);
  }
}

/** `YYYY-MM-DD` at midnight GMT, in epoch milliseconds. */
export function dateToMs(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** A datetime as the REST API writes it: `2026-12-01T09:30:00.000+0000`. */
export function formatDateTime(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+0000');
}
