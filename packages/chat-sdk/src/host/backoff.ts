import type { BackoffOptions } from '../contract/host-options.js';

/** How long to wait before reconnect or resend number `attempt` (1, 2, 3, ...), in ms. */
export type Backoff = (attempt: number) => number;

export type { BackoffOptions } from '../contract/host-options.js';

/**
 * Exponential backoff with full jitter: a random wait between 0 and min(max, base * 2^(n-1)).
 * Full jitter spreads a crowd of clients that lost the server at the same moment.
 */
export function exponentialBackoff({ baseMs = 500, maxMs = 30_000 }: BackoffOptions = {}): Backoff {
  return (attempt) => {
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
    return Math.floor(Math.random() * ceiling);
  };
}
