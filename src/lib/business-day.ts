/**
 * The UTC instants a business day spans in a time zone: [start, end) of
 * `date` (YYYY-MM-DD) in `timeZone`, so statements and reconciliations cut
 * days where the business does (Asia/Shanghai by default), not at UTC
 * midnight.
 */
export function businessDay(date: string, timeZone: string): { start: string; end: string } {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return {
    start: new Date(localMidnight(Date.UTC(y, m - 1, d), timeZone)).toISOString(),
    end: new Date(localMidnight(Date.UTC(y, m - 1, d + 1), timeZone)).toISOString(),
  };
}

/**
 * The instant of local midnight of the day whose UTC midnight is `utcMidnight`: the offset taken where midnight falls.
 */
function localMidnight(utcMidnight: number, timeZone: string): number {
  const guess = utcMidnight - offsetMs(utcMidnight, timeZone);
  return utcMidnight - offsetMs(guess, timeZone);
}

/** The business date (YYYY-MM-DD) an instant falls on in a time zone. */
export function businessDate(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)!.value;
  return `${get('year')}-${get('month')}-${get('day')}`;
}

/** Whether a string is a real calendar date written YYYY-MM-DD. */
export function isCalendarDate(s: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return !Number.isNaN(t) && new Date(t).toISOString().slice(0, 10) === s;
}

/** The zone's offset from UTC at an instant, in ms (positive east of Greenwich). */
function offsetMs(at: number, timeZone: string): number {
  const name =
    new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
      .formatToParts(new Date(at))
      .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
  if (!m) return 0;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) * 60_000;
}
