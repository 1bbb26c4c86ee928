/**
 * Opening hours and booking times: minutes after midnight on a UK day, in half-hour units (the
 * grain bookings claim), and the instants they fall at (British Summer Time included).
 */
export const UNIT_MINUTES = 30;

const WEEKDAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long' });
const LONG_DAY = new Intl.DateTimeFormat('en-GB', { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long', year: 'numeric' });
export const WEEKDAY_NAMES = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** "08:30" → 510; undefined for anything else. */
export function minutesOf(time: string): number | undefined {
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(time);
  return m ? Number(m[1]) * 60 + Number(m[2]) : undefined;
}

/** 510 → "08:30"; 1440 → "24:00". */
export function timeOf(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

export const onUnit = (minutes: number) => minutes % UNIT_MINUTES === 0;

/** The half-hour units from start up to end. */
export function unitsOf(start: number, end: number): number[] {
  const out: number[] = [];
  for (let m = start; m < end; m += UNIT_MINUTES) out.push(m / UNIT_MINUTES);
  return out;
}

/** ISO weekday of a day: 1 Monday … 7 Sunday. */
export function isoWeekday(day: string): number {
  const d = new Date(`${day}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
}

export const weekdayName = (day: string) => WEEKDAY.format(new Date(`${day}T00:00:00Z`));
/** "Monday 7 December 2026" */
export const longDay = (day: string) => LONG_DAY.format(new Date(`${day}T00:00:00Z`)).replace(',', '');

/** "1,2,3,4,5" from [1..5], and back; stored as the digits "12345". */
export const daysText = (days: number[]) => [...new Set(days)].sort().join('');
export const daysOf = (text: string) => [...text].map(Number).filter((d) => d >= 1 && d <= 7);

/** Free stretches between busy units, within from…to minutes. */
export function freeStretches(busyUnits: Set<number>, from: number, to: number): { start: number; end: number }[] {
  const out: { start: number; end: number }[] = [];
  let start: number | undefined;
  for (let m = from; m < to; m += UNIT_MINUTES) {
    const busy = busyUnits.has(m / UNIT_MINUTES);
    if (!busy && start === undefined) start = m;
    if (busy && start !== undefined) {
      out.push({ start, end: m });
      start = undefined;
    }
  }
  if (start !== undefined) out.push({ start, end: to });
  return out;
}
