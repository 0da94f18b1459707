import { ChatError } from '@chat/sdk/protocol';

/**
 * The switches tests use to make the server misbehave on purpose. `dropAll` lives with
 * the connection registry; this holds the state the request path consults.
 */
export class Faults {
  private failWrites = 0;
  private stalledUntil = 0;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly queue: Array<() => void> = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** The next `n` writing actions fail with INTERNAL and write nothing. */
  failNextWrites(n: number): void {
    this.failWrites = Math.max(0, Math.floor(n));
  }

  /**
   * Hook run inside a write's transaction, after its rows are written: throwing here
   * rolls the whole write back, which is how the switch proves writes are atomic.
   */
  readonly beforeCommit = (): void => {
    if (this.failWrites <= 0) return;
    this.failWrites--;
    throw new ChatError('INTERNAL', 'injected write failure (faults.failNextWrites)');
  };

  /** Frames keep being read but nothing is processed for `ms`; then all run in arrival order. */
  stall(ms: number): void {
    this.stalledUntil = Math.max(this.stalledUntil, this.now() + ms);
    clearTimeout(this.stallTimer);
    this.stallTimer = setTimeout(() => this.release(), Math.max(0, this.stalledUntil - this.now()));
  }

  /** Runs `work` now, or queues it behind the stall (and behind anything already queued). */
  run(work: () => void): void {
    if (this.stalledUntil > this.now() || this.queue.length > 0) {
      this.queue.push(work);
      return;
    }
    work();
  }

  get stalled(): boolean {
    return this.stalledUntil > this.now();
  }

  /** Ends a stall now and drops its timer (server shutdown). */
  dispose(): void {
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    this.queue.length = 0;
  }

  private release(): void {
    this.stallTimer = undefined;
    if (this.stalledUntil > this.now()) {
      this.stallTimer = setTimeout(() => this.release(), this.stalledUntil - this.now());
      return;
    }
    this.stalledUntil = 0;
    while (this.queue.length > 0 && !this.stalled) this.queue.shift()!();
  }
}
