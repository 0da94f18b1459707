import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's whole program, plain CommonJS (evaluated, so it runs the same under tsx,
 * vitest and a build): its own connection to the file, and a PASSIVE checkpoint on each
 * request, answered when done. PASSIVE never waits for the writer, and the writer never
 * waits for it: WAL mode lets one connection append while another copies.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
parentPort.on('message', (command) => {
  if (command === 'close') {
    db.close();
    // Told through shared memory: the store's thread is blocked waiting for it.
    Atomics.store(workerData.closed, 0, 1);
    Atomics.notify(workerData.closed, 0);
    parentPort.close();
    return;
  }
  let result = null;
  try {
    result = db.pragma('wal_checkpoint(PASSIVE)')[0];
  } catch (error) {
    result = { error: String(error) };
  }
  parentPort.postMessage(result);
});
`;

/** What one checkpoint did: frames in the WAL and frames copied into the file (or why it failed). */
export type CheckpointResult = { busy: number; log: number; checkpointed: number } | { error: string };

/**
 * WAL checkpoints on a thread of their own. Copying the WAL's pages into the database file
 * (and syncing both: `synchronous = NORMAL` syncs at checkpoints) used to run on the
 * server's thread, inside the `COMMIT` of whichever batch crossed 1,000 pages, and every
 * reply of the process waited for it. The store asks for one after every `everyMessages`
 * messages written; a request while one is running is dropped (the next one copies what it
 * missed). The store's own automatic checkpoint stays, further out, as a bound on the WAL
 * should this thread fall behind or the writes be of other kinds.
 *
 * The thread starts on the first request, so a store that writes little never starts one.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private running = false;
  private pending = 0;
  private closed = false;
  /** The thread failed (it is not started again; the automatic checkpoint carries on). */
  private failed = false;
  /** Checkpoints finished and the last one's result (tests and logs). */
  readonly stats: { checkpoints: number; last: CheckpointResult | undefined } = { checkpoints: 0, last: undefined };
  private readonly waiters: Array<() => void> = [];
  /** Set to 1 by the thread once its connection is closed (see `close`). */
  private readonly threadClosed = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly file: string,
    private readonly everyMessages: number,
  ) {}

  /** Whether the thread was ever started. */
  get started(): boolean {
    return this.worker !== undefined || this.stats.checkpoints > 0;
  }

  /** Counts `messages` more written; asks for a checkpoint once enough are. */
  wrote(messages: number): void {
    this.pending += messages;
    if (this.pending >= this.everyMessages) this.request();
  }

  /** Asks for a checkpoint now unless one is running; resolves once one has finished. */
  request(): Promise<void> {
    const done = new Promise<void>((resolve) => this.waiters.push(resolve));
    if (this.closed || this.failed) {
      this.settle();
      return done;
    }
    if (this.running) return done;
    this.pending = 0;
    this.running = true;
    this.start().postMessage('checkpoint');
    return done;
  }

  /**
   * Ends the thread, and returns once its connection is closed (after any checkpoint it is
   * in, at most `waitMs`): the store's own connection is then the file's last, whose close
   * empties the WAL and removes it, and nothing touches the folder after the store closed
   * (a thread still starting used to create the WAL's files again while it was removed).
   */
  close(waitMs = 5000): void {
    if (this.closed) return;
    this.closed = true;
    const worker = this.worker;
    this.worker = undefined;
    if (worker) {
      worker.postMessage('close');
      Atomics.wait(this.threadClosed, 0, 0, waitMs);
    }
    this.settle();
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file: this.file, driver, closed: this.threadClosed } });
    // Never what keeps the process alive; a closing store ends it.
    worker.unref();
    worker.on('message', (result: CheckpointResult) => {
      this.running = false;
      this.stats.checkpoints++;
      this.stats.last = result;
      this.settle();
    });
    worker.on('error', (error) => {
      // Without the thread the store's own automatic checkpoint still bounds the WAL.
      this.running = false;
      this.failed = true;
      this.stats.last = { error: String(error) };
      this.worker = undefined;
      this.settle();
    });
    this.worker = worker;
    return worker;
  }

  private settle(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
