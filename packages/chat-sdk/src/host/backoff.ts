import type { BackoffOptions } from '../contract/host-options.js';

/**
 * How long to wait before reconnect or resend number `attempt` (1, 2, 3, ...), in ms.
 * `windowMs`: after a server's close that named a retry window (protocol section 9), how
 * wide it asked the crowd's retries to spread; a backoff of one's own may ignore it.
 */
export type Backoff = (attempt: number, windowMs?: number) => number;

export type { BackoffOptions } from '../contract/host-options.js';

/** How much the wait grows per attempt after the second. */
const GROWTH = 1.25;
/** Later waits are their period plus up to this share of it, never less. */
const JITTER = 0.2;

/**
 * Backoff shaped for a crowd that lost the server at one moment: spread once, then keep pace.
 * - Attempt 1 waits a random time in [0, window), the window being 2 × base (1 s by
 *   default): the crowd's first retries are spread evenly instead of landing together.
 * - Attempt n ≥ 2 waits a period of window × 1.25^(n-2) plus up to a fifth of it, the
 *   whole at most `maxMs`. Every client grows its period alike, so the spread of the first retries is kept:
 *   the crowd keeps coming at about N per window, never in a herd, and when the server is
 *   back every client is in within one period. A wide random draw per attempt (full or
 *   decorrelated jitter) would instead leave some clients far out: the long tail
 *   docs/benchmarks.md, "Reconnect storm", shows for full jitter.
 * With `windowMs` from a server's close hint the window is that wide (a big crowd asked to
 * spread wider) and never narrower than 2 × base.
 * `random` is for tests (a seeded generator); it returns numbers in [0, 1).
 */
export function exponentialBackoff({ baseMs = 500, maxMs = 30_000 }: BackoffOptions = {}, random: () => number = Math.random): Backoff {
  return (attempt, windowMs) => {
    const window = Math.min(maxMs, Math.max(2 * baseMs, windowMs ?? 0));
    if (attempt <= 1) return Math.floor(random() * window);
    const period = Math.min(maxMs / (1 + JITTER), window * GROWTH ** (attempt - 2));
    return Math.floor(period * (1 + JITTER * random()));
  };
}
