/**
 * One catch-up run per key (a room) at a time. A call while one runs shares its promise and
 * asks it to go round once more when it ends, so whatever arrived meanwhile is fetched too;
 * a run that throws reports the error and ends. Room sync (by seq) and message changes (by
 * rev) page their rooms through it.
 */
export class KeyedRuns {
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(private readonly onError: (error: unknown) => void) {}

  /** Runs `pass` for `key` (again, until no call came during it), or joins the run in progress. */
  run(key: string, pass: () => Promise<void>): Promise<void> {
    const running = this.running.get(key);
    if (running) {
      this.again.add(key);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(key);
          await pass();
        } while (this.again.has(key));
      } catch (error) {
        this.onError(error);
      } finally {
        this.running.delete(key);
      }
    })();
    this.running.set(key, run);
    return run;
  }

  isRunning(key: string): boolean {
    return this.running.has(key);
  }

  /** No further round for `key` (or for every key): what it would fetch is no longer wanted. */
  cancelAgain(key?: string): void {
    if (key === undefined) this.again.clear();
    else this.again.delete(key);
  }
}
