import type { Rate } from '../options.js';

/**
 * Where the counters behind the per-user and per-address limits live. The in-memory one
 * (`MemoryLimitStore`) serves one process; several processes behind one address would
 * share a store with the same five calls (e.g. on Redis: a bucket is a hash refilled by a
 * script, a count is INCR/DECR with an expiry). The calls are synchronous because a frame
 * is handled to completion before the next is read; a networked store keeps a local copy
 * it reconciles in the background.
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

  constructor(private readonly now: () => number = () => performance.now()) {
    this.sweptAt = now();
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
    this.sweep(false);
    let bucket = this.buckets.get(key);
    if (!bucket) this.buckets.set(key, (bucket = { tokens: rate.burst, at: this.now(), rate }));
    else this.refill(bucket);
    return bucket;
  }

  private refill(bucket: Bucket): void {
    const now = this.now();
    bucket.tokens = Math.min(bucket.rate.burst, bucket.tokens + (Math.max(0, now - bucket.at) / 1000) * bucket.rate.perSecond);
    bucket.at = now;
  }

  /** Once a minute (or when asked), drops buckets that have refilled: they equal a fresh one. */
  private sweep(force: boolean): void {
    const now = this.now();
    if (!force && now - this.sweptAt < 60_000) return;
    this.sweptAt = now;
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket);
      if (bucket.tokens >= bucket.rate.burst) this.buckets.delete(key);
    }
  }
}
