import type { BackoffOptions } from '../contract/host-options.js';

/** How long to wait before reconnect or resend number `attempt` (1, 2, 3, ...), in ms. */
export type Backoff = (attempt: number) => number;

export type { BackoffOptions } from '../contract/host-options.js';

/** How much the ceiling grows per attempt after the second. */
const GROWTH = 1.5;

/**
 * Backoff shaped for a crowd that lost the server at one moment:
 * - attempt 1 waits a random time in [0, 2 × base): the crowd's first retries are spread
 *   evenly over a short window instead of landing together;
 * - attempt n ≥ 2 waits a random time in the upper half of a ceiling of base × 1.5^(n-2),
 *   at most `maxMs` ("equal jitter").
 * Against full jitter (a wait anywhere below a ceiling that doubles) it keeps the peak low
 * without full jitter's long tail, where a client that failed a few times could draw a wait
 * near a far ceiling and stay away long after the server was back (docs/benchmarks.md,
 * "Reconnect storm", has both in one run).
 */
export function exponentialBackoff({ baseMs = 500, maxMs = 30_000 }: BackoffOptions = {}): Backoff {
  return (attempt) => {
    if (attempt <= 1) return Math.floor(Math.random() * Math.min(maxMs, 2 * baseMs));
    const ceiling = Math.min(maxMs, baseMs * GROWTH ** (attempt - 2));
    return Math.floor(ceiling / 2 + Math.random() * (ceiling / 2));
  };
}
