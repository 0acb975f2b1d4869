/**
 * Rate limits as token buckets: `burst` tokens, refilled at `ratePerSecond`. A bucket is a pair of
 * numbers refilled lazily on use, so an idle bucket costs nothing and needs no timer.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** True when the bucket is full again, so a keyed map may forget it without changing behaviour. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSecond) / 1000);
    this.updatedAt = now;
  }
}

/**
 * Buckets by key (a conversation, an address). Full buckets are dropped by {@link prune}, so the map
 * holds only keys that were active recently, and an address never outlives its usefulness in memory.
 */
export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
  ) {}

  take(key: string, now: number): boolean {
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = new TokenBucket(this.ratePerSecond, this.burst, now)));
    return bucket.take(now);
  }

  /** Forgets buckets that have refilled completely. */
  prune(now: number): void {
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }

  get size(): number {
    return this.buckets.size;
  }
}

/** Counts open things per key (connections per address, per org); a key at zero is deleted. */
export class Counter {
  private readonly counts = new Map<string, number>();

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.counts.set(key, this.get(key) + 1);
  }

  remove(key: string): void {
    const next = this.get(key) - 1;
    if (next <= 0) this.counts.delete(key);
    else this.counts.set(key, next);
  }
}
