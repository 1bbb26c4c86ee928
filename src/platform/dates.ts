/** Days as the council counts them: in the UK (Europe/London), written YYYY-MM-DD. */

const LONDON_DAY = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' });
const DAY_MS = 86_400_000;
const OFFSET = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', timeZoneName: 'shortOffset' });
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

/** Minutes east of UTC in the UK at an instant: 0 or 60. */
function londonOffset(at: number): number {
  const name = OFFSET.formatToParts(new Date(at)).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-]\d+)(?::(\d+))?/.exec(name);
  return m ? Number(m[1]) * 60 + Math.sign(Number(m[1])) * Number(m[2] ?? 0) : 0;
}

/** The instant a UK wall-clock time on a UK day falls at. */
export function londonInstant(day: string, minutes: number): Date {
  const guess = Date.parse(`${day}T00:00:00Z`) + minutes * 60_000;
  let at = guess - londonOffset(guess) * 60_000;
  // Near a change of the clocks the offset at the answer is the one that counts.
  at = guess - londonOffset(at) * 60_000;
  return new Date(at);
}

/** Minutes after midnight UK time of an instant. */
export function londonMinutes(at: Date): number {
  const [h, m] = CLOCK.format(at).split(':').map(Number);
  return h * 60 + m;
}
