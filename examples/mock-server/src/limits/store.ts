import type { Rate } from '../options.js';

/**
 * Where the counters behind the per-user and per-address limits live. The in-memory one
 * (`MemoryLimitStore`) serves one process; with Redis, `SharedLimitStore` (shared-store.ts)
 * keeps one in memory per process and reconciles it with Redis in the background. The calls
 * are synchronous because a frame's limits are decided when it arrives, without a round trip.
 */
export interface LimitStore {
  /**
   * Takes `cost` tokens from the bucket `key` (full at first): 0 when granted, else the
   * milliseconds until it would be (at least 1), and nothing is taken.
   */
  take(key: string, rate: Rate, cost?: number): number;
  /** Takes `cost` after the fact, even into debt (a reply's bytes, known once it is made). */
  charge(key: string, rate: Rate, cost: number): void;
  /** Milliseconds until the bucket `key` is out of debt: 0 when it holds at least one token. */
  wait(key: string, rate: Rate): number;
  /** One more holder of `key`, when fewer than `max` hold it: true; else false and nothing changes. */
  acquire(key: string, max: number): boolean;
  /** One holder of `key` fewer. */
  release(key: string): void;
  /** A shared store learns the current count of `key` before an `acquire` that matters (none in memory). */
  refresh?(key: string): Promise<void>;
}

interface Bucket {
  tokens: number;
  at: number;
  rate: Rate;
}

/** Token buckets and counts in maps; full buckets and zero counts are dropped, so idle keys cost nothing. */
export class MemoryLimitStore implements LimitStore {
  private readonly buckets = new Map<string, Bucket>();
  private readonly counts = new Map<string, number>();
  private sweptAt: number;

  /**
   * `fresh`: the tokens of a bucket first used here; default full. A store shared by N
   * processes starts one at its share (burst / N) until it learns the shared level.
   */
  constructor(
    private readonly now: () => number = () => performance.now(),
    private readonly fresh: (rate: Rate) => number = (rate) => rate.burst,
  ) {
    this.sweptAt = now();
  }

  /** Whether the bucket `key` is in use here (else the next call makes a fresh one). */
  has(key: string): boolean {
    return this.buckets.has(key);
  }

  /** Sets the bucket `key` to `tokens` (at most its burst): the level learnt from a shared store. */
  set(key: string, rate: Rate, tokens: number): void {
    this.bucket(key, rate).tokens = Math.min(rate.burst, tokens);
  }

  /** Holders of `key` counted here. */
  held(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Every key with holders here, and how many. */
  allHeld(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }

  take(key: string, rate: Rate, cost = 1): number {
    const bucket = this.bucket(key, rate);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return 0;
    }
    return Math.max(1, Math.ceil(((Math.min(cost, rate.burst) - bucket.tokens) / rate.perSecond) * 1000));
  }

  charge(key: string, rate: Rate, cost: number): void {
    this.bucket(key, rate).tokens -= cost;
  }

  wait(key: string, rate: Rate): number {
    const bucket = this.buckets.get(key);
    if (!bucket) return 0;
    this.refill(bucket);
    return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil(((1 - bucket.tokens) / rate.perSecond) * 1000));
  }

  acquire(key: string, max: number): boolean {
    const held = this.counts.get(key) ?? 0;
    if (held >= max) return false;
    this.counts.set(key, held + 1);
    return true;
  }

  release(key: string): void {
    const held = (this.counts.get(key) ?? 0) - 1;
    if (held > 0) this.counts.set(key, held);
    else this.counts.delete(key);
  }

  /** Keys held (tests: idle keys are dropped). */
  size(): number {
    this.sweep(true);
    return this.buckets.size + this.counts.size;
  }

  private bucket(key: string, rate: Rate): Bucket {
    // One clock read a call: a message takes about eight buckets.
    const now = this.now();
    this.sweep(false, now);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: this.fresh(rate), at: now, rate }));
    else this.refill(bucket, now);
    return bucket;
  }

  private refill(bucket: Bucket, now = this.now()): void {
    bucket.tokens = Math.min(bucket.rate.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * bucket.rate.perSecond);
    bucket.at = now;
  }

  /** Once a minute (or when asked), drops buckets that have refilled: they equal a fresh one. */
  private sweep(force: boolean, now = this.now()): void {
    if (!force && now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, now);
      if (bucket.tokens >= bucket.rate.burst) this.buckets.delete(key);
    }
  }
}
