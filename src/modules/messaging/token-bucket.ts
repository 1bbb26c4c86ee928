/**
 * A token bucket: refills perMinute/60 tokens a second and holds `capacity` (by default a third
 * of a minute's worth plus one, as GOV.UK Notify sizes its API buckets). Used for Notify's API
 * rate limit and for providers' sending rates.
 */
export class TokenBucket {
  private tokens: number;
  private at = Date.now();

  constructor(
    readonly perMinute: number,
    private readonly capacity = Math.ceil(perMinute / 3) + 1,
  ) {
    this.tokens = capacity;
  }

  private refill(): void {
    const now = Date.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.at) / 60_000) * this.perMinute);
    this.at = now;
  }

  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Milliseconds until a token is there. */
  wait(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) * 60_000) / this.perMinute);
  }
}
