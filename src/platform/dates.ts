/** Days as the council counts them: in the UK (Europe/London), written YYYY-MM-DD. */

const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const DAY_MS = 86_400_000;
const CLOCK = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

/** The day in the UK an instant falls on. */
export function londonDay(at: Date): string {
  return LONDON_DAY.format(at);
}

/** A day `n` days after (or before) another. */
export function addDays(day: string, n: number): string {
  return new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);
}

/** Whole days from `a` to `b`. */
export function daysBetween(a: string, b: string): number {
  return Math.round((Date.parse(`${b}T00:00:00Z`) - Date.parse(`${a}T00:00:00Z`)) / DAY_MS);
}

/** Whether text is a real day, YYYY-MM-DD (not 30 February). */
export function isDay(day: string): boolean {
  const d = new Date(`${day}T00:00:00Z`);
  return /^\d{4}-\d{2}-\d{2}$/.test(day) && !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === day;
}

const summerByYear = new Map<number, [number, number]>();

/** The instant (UTC ms) of 01:00 UTC on the last Sunday of a month: when UK clocks change. */
function lastSundayOneAm(year: number, month: number): number {
  const last = new Date(Date.UTC(year, month + 1, 0));
  return Date.UTC(year, month, last.getUTCDate() - last.getUTCDay(), 1);
}

/**
 * London's offset from UTC in minutes: British Summer Time (+60) from 01:00 UTC on the last Sunday
 * of March to 01:00 UTC on the last Sunday of October, the rule in force since 1996; else 0.
 * Worked out, not asked of Intl: a thousand Open311 requests have three thousand dates.
 */
export function londonOffsetMinutes(ms: number): number {
  const year = new Date(ms).getUTCFullYear();
  let summer = summerByYear.get(year);
  if (!summer) {
    summer = [lastSundayOneAm(year, 2), lastSundayOneAm(year, 9)];
    summerByYear.set(year, summer);
  }
  return ms >= summer[0] && ms < summer[1] ? 60 : 0;
}

/** The instant a UK wall-clock time on a UK day falls at. */
export function londonInstant(day: string, minutes: number): Date {
  const guess = Date.parse(`${day}T00:00:00Z`) + minutes * 60_000;
  let at = guess - londonOffsetMinutes(guess) * 60_000;
  // Near a change of the clocks the offset at the answer is the one that counts.
  at = guess - londonOffsetMinutes(at) * 60_000;
  return new Date(at);
}

/** Minutes after midnight UK time of an instant. */
export function londonMinutes(at: Date | number): number {
  const [h, m] = CLOCK.format(at).split(':').map(Number);
  return h * 60 + m;
}
