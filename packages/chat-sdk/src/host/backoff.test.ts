import { describe, expect, it } from 'vitest';
import { exponentialBackoff } from './backoff.js';

const draws = (backoff: (attempt: number) => number, attempt: number, n = 2000) => Array.from({ length: n }, () => backoff(attempt));

describe('exponentialBackoff', () => {
  const backoff = exponentialBackoff({ baseMs: 500, maxMs: 30_000 });

  it('spreads the first retry evenly over [0, 2 × base): a crowd cut at once does not come back at once', () => {
    const first = draws(backoff, 1);
    expect(Math.min(...first)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...first)).toBeLessThan(1000);
    // Every tenth of the window gets some of the crowd.
    const tenths = new Set(first.map((ms) => Math.floor(ms / 100)));
    expect(tenths.size).toBe(10);
  });

  it('later waits lie in the upper half of a ceiling growing 1.5× per attempt, never above maxMs', () => {
    for (const [attempt, ceiling] of [[2, 500], [3, 750], [4, 1125], [6, 2531.25]] as const) {
      const waits = draws(backoff, attempt);
      expect(Math.min(...waits)).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
      expect(Math.max(...waits)).toBeLessThanOrEqual(ceiling);
    }
    const late = draws(backoff, 40);
    expect(Math.max(...late)).toBeLessThanOrEqual(30_000);
    expect(Math.min(...late)).toBeGreaterThanOrEqual(15_000);
  });

  it('takes its numbers from the options (a shared host gets them as backoffOptions)', () => {
    const quick = exponentialBackoff({ baseMs: 20, maxMs: 100 });
    expect(Math.max(...draws(quick, 1))).toBeLessThan(40);
    expect(Math.max(...draws(quick, 30))).toBeLessThanOrEqual(100);
  });
});
