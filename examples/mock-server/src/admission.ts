import { withRetryHint } from '@chat/sdk/protocol';
import type { Limits } from './limits/index.js';
import { MemoryLimitStore } from './limits/store.js';
import type { Rate } from './options.js';

/** The widest retry window a refusal names: clients follow hints of up to 60 s (protocol section 9). */
const MAX_WINDOW_MS = 60_000;
/** The narrowest window: even a small excess is spread over a second, not sent back at one moment. */
const MIN_WINDOW_MS = 1000;

/**
 * Admission at the door, before a socket costs anything (a session check, a catch-up): how
 * many new sockets the process takes a second. A crowd that arrives together, after a crash
 * (where no 1001 with a retry hint went out) or when a network comes back, is taken up to
 * the rate; the rest is closed 1013 with `retryWindowMs=W; retryAfterMs=N` in the reason,
 * W growing by one slot (1 s ÷ rate) per refusal. Clients that follow the hint (the SDK does)
 * come back spread over the queue, about `rate` a second, instead of all at once again.
 *
 * The address's own rate (`Limits.acceptSocket`) comes first, so one address opening and
 * closing sockets cannot use up everyone's admission. The process's rate is its own (a local
 * bucket, also behind a shared limit store): each process knows what it can take.
 */
export class Admission {
  private readonly bucket: MemoryLimitStore;
  /** When the crowd refused so far would all be taken at the rate. */
  private queuedUntil = 0;

  constructor(
    private readonly limits: Limits,
    private readonly rate: Rate,
    private readonly now: () => number,
  ) {
    this.bucket = new MemoryLimitStore(now);
  }

  /** A new socket from `ip`: undefined to take it, else the reason to close it 1013 with (it ends with the retry hint). */
  refusal(ip: string): string | undefined {
    const addressWaitMs = this.limits.acceptSocket(ip);
    if (addressWaitMs > 0) return withRetryHint('too many new connections from this address', addressWaitMs);
    const waitMs = this.bucket.take('accept', this.rate);
    if (waitMs === 0) return undefined;
    const now = this.now();
    this.queuedUntil = Math.min(now + MAX_WINDOW_MS, Math.max(this.queuedUntil, now) + 1000 / this.rate.perSecond);
    return withRetryHint('server busy', waitMs, Math.max(MIN_WINDOW_MS, Math.ceil(this.queuedUntil - now)));
  }
}
