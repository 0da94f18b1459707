import { describe, expect, it } from 'vitest';
import { type Backoff, exponentialBackoff } from './backoff.js';

/** A seeded generator (32-bit linear congruential, Numerical Recipes' constants): the same draws on every run. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296;
}

const draws = (backoff: Backoff, attempt: number, n = 2000, windowMs?: number) => Array.from({ length: n }, () => backoff(attempt, windowMs));

/**
 * A crowd cut at moment 0 from a server that takes connections again at `downMs`: when each
 * client tries (the first retry from `first`, then the backoff), until each gets in.
 */
function crowd(backoff: Backoff, { clients = 1000, downMs, first = (i: number) => backoff(1), windowMs = undefined as number | undefined }: { clients?: number; downMs: number; first?: (i: number) => number; windowMs?: number }) {
  const attempts: number[] = [];
  const backAt: number[] = [];
  for (let i = 0; i < clients; i++) {
    let at = first(i);
    let attempt = 1;
    attempts.push(at);
    while (at < downMs) {
      at += backoff(++attempt, windowMs);
      attempts.push(at);
    }
    backAt.push(at);
  }
  const perBucket = new Map<number, number>();
  for (const at of attempts) perBucket.set(Math.floor(at / 100), (perBucket.get(Math.floor(at / 100)) ?? 0) + 1);
  return { allBackAt: Math.max(...backAt), peakPer100ms: Math.max(...perBucket.values()), attempts: attempts.length };
}

describe('exponentialBackoff', () => {
  const backoff = exponentialBackoff({ baseMs: 500, maxMs: 30_000 }, seeded(1));

  it('spreads the first retry evenly over [0, 2 × base): a crowd cut at once does not come back at once', () => {
    const first = draws(backoff, 1);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first)).toBeLessThan(1000);
    // Every tenth of the window gets about a tenth of the crowd.
    const tenths = Array.from({ length: 10 }, (_, t) => first.filter((ms) => Math.floor(ms / 100) === t).length);
    for (const count of tenths) expect(count).toBeGreaterThan(150);
  });

  it('later waits keep pace: a period of the window growing 1.25× per attempt, plus at most a fifth, never above maxMs', () => {
    for (const [attempt, period] of [[2, 1000], [3, 1250], [4, 1562.5], [6, 2441.40625]] as const) {
      const waits = draws(backoff, attempt);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(Math.floor(period));
      expect(Math.max(...waits)).toBeLessThanOrEqual(period * 1.2);
    }
    const late = draws(backoff, 40);
    expect(Math.max(...late)).toBeLessThanOrEqual(30_000);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(25_000);
  });

  it('spreads and paces over a wider window when a server names one, never a narrower one', () => {
    const first = draws(backoff, 1, 2000, 8000);
    expect(Math.max(...first)).toBeLessThan(8000);
    expect(Math.max(...first)).toBeGreaterThan(7000);
    expect(Math.min(...draws(backoff, 2, 2000, 8000))).toBeGreaterThanOrEqual(8000);
    expect(Math.max(...draws(backoff, 1, 2000, 200))).toBeGreaterThan(900);
    expect(Math.max(...draws(backoff, 30, 2000, 120_000))).toBeLessThanOrEqual(30_000);
  });

  it('takes its numbers from the options (a shared host gets them as backoffOptions)', () => {
    const quick = exponentialBackoff({ baseMs: 20, maxMs: 100 }, seeded(2));
    expect(Math.max(...draws(quick, 1))).toBeLessThan(40);
    expect(Math.max(...draws(quick, 30))).toBeLessThanOrEqual(100);
  });
});

describe('a crowd of 1,000 after an outage', () => {
  const noJitter: Backoff = (attempt) => Math.min(30_000, 500 * 2 ** (attempt - 1));

  it('comes back within one period of the server, with no 100 ms holding more than a fifth of the lockstep herd', () => {
    // The longest wait in flight when the server is back: the period of that attempt plus a
    // fifth (1 s × 1.2 at attempt 2, 1.25 s × 1.2 at 3, 1.25^6 s × 1.2 at 8).
    const longestWait = { 200: 1200, 2000: 1500, 10_000: 4578 };
    for (const downMs of [200, 2000, 10_000] as const) {
      const ours = crowd(exponentialBackoff({}, seeded(downMs)), { downMs });
      const lockstep = crowd(noJitter, { downMs });
      const fullRandom = seeded(downMs + 1);
      const full = crowd((attempt) => Math.floor(fullRandom() * noJitter(attempt)), { downMs });
      expect(lockstep.peakPer100ms).toBe(1000);
      expect(ours.peakPer100ms).toBeLessThanOrEqual(lockstep.peakPer100ms / 5);
      expect(ours.allBackAt - downMs).toBeLessThanOrEqual(longestWait[downMs]);
      expect(ours.allBackAt).toBeLessThan(full.allBackAt);
    }
  });

  it('told by the server to come back after 1 s over a 4 s window, keeps that spread while the server is still down', () => {
    const random = seeded(7);
    const backoff = exponentialBackoff({}, random);
    const told = crowd(backoff, { downMs: 6000, windowMs: 4000, first: () => 1000 + random() * 4000 });
    // About 1,000 over 4 s is 25 per 100 ms; no bucket gets twice that.
    expect(told.peakPer100ms).toBeLessThanOrEqual(50);
    // Back within the wait of attempt 3: a period of 4 s × 1.25, plus a fifth.
    expect(told.allBackAt).toBeLessThanOrEqual(6000 + 5000 * 1.2);
  });
});
