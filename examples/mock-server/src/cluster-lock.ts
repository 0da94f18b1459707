import pg from 'pg';
import type { Logger } from './log.js';

/**
 * The advisory lock every server process on one PostgreSQL database takes for its lifetime
 * (docs/scale-out.md, "One process without Redis, or many with it"). A two-key lock, so it
 * never meets the migrations' one-key `pg_advisory_xact_lock(0x63686174)`; advisory locks
 * are per database, so processes on other databases of the same PostgreSQL do not meet it.
 */
const LOCK_KEYS = [0x63686174, 16] as const;

/** How often a lost lock connection (PostgreSQL restarting) is tried again. */
const RETAKE_MS = 1000;

export class ClusterRefused extends Error {
  readonly code = 'CLUSTER_REFUSED';
}

/**
 * A process without Redis holds the lock exclusively: no other process, with Redis or
 * without, can take it, and it cannot take it while any other holds it. Processes with Redis
 * hold it shared: any number of them together. A session-level lock lives as long as its
 * connection, so a process that dies (even by SIGKILL) frees it at once; nothing is left to
 * clean up, unlike a row or a key with a lease.
 */
export class ClusterLock {
  private client: pg.Client | undefined;
  private closed = false;
  private retake: NodeJS.Timeout | undefined;

  private constructor(
    private readonly url: string,
    private readonly shared: boolean,
    private readonly log: Logger,
  ) {}

  /** Takes the lock or throws `ClusterRefused` (one line saying why); a connection failure throws as it is. */
  static async take(url: string, options: { withRedis: boolean; log: Logger }): Promise<ClusterLock> {
    const lock = new ClusterLock(url, options.withRedis, options.log);
    if (!(await lock.connectAndLock())) throw new ClusterRefused(lock.refusal());
    return lock;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retake);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }

  private refusal(): string {
    return this.shared
      ? "refusing to start: a server process without CHAT_REDIS is serving this PostgreSQL database, so events of either would never reach the other one's clients; stop it, or start every process with the same CHAT_REDIS"
      : "refusing to start: another server process is serving this PostgreSQL database, and without CHAT_REDIS this one's events would never reach its clients; set CHAT_REDIS (the same for every process) or stop the other one";
  }

  /** True when the lock is held; false when another process holds it in the other mode. */
  private async connectAndLock(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('error', () => {}); // the 'end' below handles a lost connection
    try {
      await client.connect();
      const fn = this.shared ? 'pg_try_advisory_lock_shared' : 'pg_try_advisory_lock';
      const { rows } = await client.query<{ held: boolean }>(`SELECT ${fn}($1, $2) AS held`, [...LOCK_KEYS]);
      if (!rows[0]?.held) {
        await client.end().catch(() => {});
        return false;
      }
    } catch (error) {
      await client.end().catch(() => {});
      throw error;
    }
    this.client = client;
    client.once('end', () => this.lost(client));
    return true;
  }

  /**
   * The connection went (PostgreSQL restarted, a network cut) and the lock with it: taken
   * again as soon as PostgreSQL is back. A process in the other mode that started meanwhile
   * cannot be refused any more; that is logged, loudly, every time it is tried.
   */
  private lost(client: pg.Client): void {
    if (this.closed || this.client !== client) return;
    this.client = undefined;
    this.log.warn('lost the PostgreSQL connection holding the cluster lock; taking it again');
    const attempt = (): void => {
      this.retake = setTimeout(() => {
        if (this.closed) return;
        this.connectAndLock().then(
          (held) => {
            if (held) this.log.info('cluster lock held again');
            else {
              this.log.error(this.refusal().replace('refusing to start', 'cannot take the cluster lock again'));
              attempt();
            }
          },
          () => attempt(),
        );
      }, RETAKE_MS);
      this.retake.unref();
    };
    attempt();
  }
}
