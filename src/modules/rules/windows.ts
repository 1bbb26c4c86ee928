/**
 * Rolling windows over a device's readings of one metric, kept in memory as minute buckets (a
 * sum and a count per minute), so a mean over 15 minutes or 24 hours costs the same as the
 * readings in it cost to add. Time is the readings' own: a window ends at the newest reading
 * seen, so a replay of yesterday's data gives the answers yesterday would have.
 */

const MINUTE = 60_000;

export class MinuteSeries {
  private size: number;
  private sums: Float64Array;
  private counts: Float64Array;
  private minutes: Float64Array;
  /** the minute of the newest reading */
  newest = Number.NEGATIVE_INFINITY;
  /** running sums of the windows asked for so far, kept up to date as readings come */
  private running: { minutes: number; sum: number; count: number }[] = [];

  constructor(windowMinutes: number) {
    this.size = windowMinutes + 1;
    this.sums = new Float64Array(this.size);
    this.counts = new Float64Array(this.size);
    this.minutes = new Float64Array(this.size).fill(Number.NaN);
  }

  get windowMinutes(): number {
    return this.size - 1;
  }

  /** Makes room for a longer window (a new rule wants 24 hours where 1 hour was kept). */
  grow(windowMinutes: number): void {
    if (windowMinutes + 1 <= this.size) return;
    const old = { sums: this.sums, counts: this.counts, minutes: this.minutes, size: this.size };
    this.size = windowMinutes + 1;
    this.sums = new Float64Array(this.size);
    this.counts = new Float64Array(this.size);
    this.minutes = new Float64Array(this.size).fill(Number.NaN);
    for (let i = 0; i < old.size; i++) {
      const m = old.minutes[i];
      if (Number.isNaN(m)) continue;
      const slot = m % this.size;
      this.minutes[slot] = m;
      this.sums[slot] = old.sums[i];
      this.counts[slot] = old.counts[i];
    }
    this.running = [];
  }

  /** Adds a reading; one older than the window kept is ignored. */
  add(at: number, value: number): void {
    this.addBucket(Math.floor(at / MINUTE), value, 1);
  }

  /** Adds a minute's worth at once (warming up from stored aggregates). */
  addBucket(minute: number, sum: number, count: number): void {
    if (minute <= this.newest - this.size) return;
    if (minute > this.newest) this.advance(minute);
    for (const w of this.running) {
      if (minute > this.newest - w.minutes) {
        w.sum += sum;
        w.count += count;
      }
    }
    const slot = minute % this.size;
    if (this.minutes[slot] !== minute) {
      this.minutes[slot] = minute;
      this.sums[slot] = 0;
      this.counts[slot] = 0;
    }
    this.sums[slot] += sum;
    this.counts[slot] += count;
  }

  /** Moves the newest minute on: minutes that leave each running window are taken out of its sums. */
  private advance(minute: number): void {
    for (const w of this.running) {
      if (minute - this.newest >= w.minutes) {
        w.sum = 0;
        w.count = 0;
        continue;
      }
      for (let m = this.newest - w.minutes + 1; m <= minute - w.minutes; m++) {
        const slot = m % this.size;
        if (this.minutes[slot] === m) {
          w.sum -= this.sums[slot];
          w.count -= this.counts[slot];
        }
      }
    }
    this.newest = minute;
  }

  /** The mean of the readings in the last `minutes` (the newest minute included); NaN with none. */
  mean(minutes: number): number {
    if (!Number.isFinite(this.newest)) return Number.NaN;
    const span = Math.min(minutes, this.size);
    let w = this.running.find((r) => r.minutes === span);
    if (!w) {
      w = { minutes: span, sum: 0, count: 0 };
      for (let m = this.newest - span + 1; m <= this.newest; m++) {
        const slot = m % this.size;
        if (this.minutes[slot] === m) {
          w.sum += this.sums[slot];
          w.count += this.counts[slot];
        }
      }
      this.running.push(w);
    }
    return w.count > 0 ? w.sum / w.count : Number.NaN;
  }

  /** The mean of the minute `minutesAgo` before the newest, or of the nearest earlier minute with data within the window. */
  valueAgo(minutesAgo: number): number {
    const target = this.newest - minutesAgo;
    let best = Number.NEGATIVE_INFINITY;
    let slot = -1;
    for (let i = 0; i < this.size; i++) {
      const m = this.minutes[i];
      if (m <= target && m > best && this.counts[i] > 0) {
        best = m;
        slot = i;
      }
    }
    return slot < 0 ? Number.NaN : this.sums[slot] / this.counts[slot];
  }
}
