import { type Presence as PresenceState, eventFrame } from '@chat/sdk/protocol';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
import type { SharedPresence } from './shared-presence.js';
import type { AsyncStorage } from './storage/async-storage.js';

interface Online {
  /** When this stretch online began: the `lastSeenAt` shown while online. */
  since: number;
  /** Set while the user's last connection has closed and the grace period runs. */
  goneAt?: number;
  timer?: NodeJS.Timeout;
}

/**
 * Who is online (protocol 1.1, docs/protocol.md 10.3), in memory: a user is online from
 * their first authenticated connection until `graceMs` after their last one closed, so a
 * reload (close, then open within the grace) is never "offline, online". Changes go as
 * `presence` to the people who share a room with the user, and nobody else. When the user
 * goes offline the time their last connection closed is stored (`users.last_seen_at`), so
 * "last seen" survives a restart; it is also stored on sign-in, so a crash loses little.
 * Storage is async: what a change stores and announces runs on one chain, in the order the
 * changes happened (an `online` is never announced or stored after the `offline` that followed it).
 *
 * With Redis (`shared`), this process's users are also recorded there: a user comes online
 * when the first process takes them and goes offline when the last one lets them go (after
 * its grace), and only the process that sees that change announces and stores it. A process
 * that dies is cleaned up by another (`processDied`). While Redis fails, each process
 * decides from its own connections, as without Redis.
 */
export class PresenceTracker {
  private readonly online = new Map<string, Online>();
  private readonly offlineListeners: Array<(userId: string) => void> = [];
  /** The storage work of presence changes, one after another; `close()` waits for it. */
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: AsyncStorage,
    private readonly hub: Hub,
    private readonly options: { graceMs: number; now: () => number; log: Logger; shared?: SharedPresence },
  ) {
    hub.onFirstConnection = (userId) => this.connected(userId);
    hub.onLastConnection = (userId) => this.disconnected(userId);
  }

  /** Called when a user is announced offline (the typing state of the user goes with it). */
  onOffline(listener: (userId: string) => void): void {
    this.offlineListeners.push(listener);
  }

  onlineCount(): number {
    return this.online.size;
  }

  isOnline(userId: string): boolean {
    return this.online.has(userId);
  }

  /** What `get_presence` answers for the caller: the caller and co-members among `userIds`; others are left out. */
  async get(callerId: string, userIds: readonly string[]): Promise<PresenceState[]> {
    const visible = new Set(await this.storage.getCoMemberIds(callerId));
    visible.add(callerId);
    const asked = [...new Set(userIds)].filter((id) => visible.has(id));
    const since = new Map<string, number>();
    for (const id of asked) if (this.online.has(id)) since.set(id, this.online.get(id)!.since);
    const elsewhere = asked.filter((id) => !since.has(id));
    if (this.options.shared && elsewhere.length > 0) {
      try {
        for (const [id, at] of await this.options.shared.status(elsewhere)) since.set(id, at);
      } catch (error) {
        this.redisFailed(error); // answered from this process's connections only
      }
    }
    const stored = await this.storage.getLastSeenAt(asked.filter((id) => !since.has(id)));
    return asked.map((userId) =>
      since.has(userId)
        ? { userId, online: true, lastSeenAt: since.get(userId)! }
        : { userId, online: false, lastSeenAt: stored.get(userId) ?? null },
    );
  }

  /** The server stops: everyone online now was last seen now (stored before this resolves). */
  async close(): Promise<void> {
    const now = this.options.now();
    for (const [userId, state] of this.online) {
      clearTimeout(state.timer);
      this.store(userId, state.goneAt ?? now);
    }
    this.online.clear();
    await this.pending;
  }

  private connected(userId: string): void {
    const state = this.online.get(userId);
    if (state) {
      // Back within the grace period (a reload, a reconnect): still online, nothing to say.
      clearTimeout(state.timer);
      delete state.timer;
      delete state.goneAt;
      return;
    }
    const now = this.options.now();
    const online: Online = { since: now };
    this.online.set(userId, online);
    this.then(async () => {
      const shared = await this.sharedJoin(userId, now);
      if (shared) online.since = shared.since;
      // Online on another process already: that process announced it.
      if (shared && !shared.first) return;
      await this.storeNow(userId, now);
      await this.announceNow({ userId, online: true, lastSeenAt: now });
    });
  }

  private disconnected(userId: string): void {
    const state = this.online.get(userId);
    if (!state) return;
    state.goneAt = this.options.now();
    clearTimeout(state.timer);
    state.timer = setTimeout(() => this.wentOffline(userId), this.options.graceMs);
    state.timer.unref();
  }

  private wentOffline(userId: string): void {
    const state = this.online.get(userId);
    if (!state || state.goneAt === undefined || this.hub.isConnected(userId)) return;
    this.online.delete(userId);
    const goneAt = state.goneAt;
    this.then(async () => {
      // Still held by another process: they are online; that one will say when they are not.
      if (!(await this.sharedLeave(userId))) return;
      await this.storeNow(userId, goneAt);
      await this.announceNow({ userId, online: false, lastSeenAt: goneAt });
    });
    for (const listener of this.offlineListeners) listener(userId);
  }

  /**
   * Another process died (its liveness key expired) and this one claimed it: each user it
   * held that no live process holds goes offline, last seen now (when its death is known).
   */
  async processDied(processId: string): Promise<void> {
    const shared = this.options.shared;
    if (!shared) return;
    for (const userId of await shared.heldBy(processId)) {
      if (!(await shared.leave(userId, processId)) || this.online.has(userId)) continue;
      const now = this.options.now();
      this.then(async () => {
        await this.storeNow(userId, now);
        await this.announceNow({ userId, online: false, lastSeenAt: now });
      });
    }
    await shared.forgetProcess(processId);
  }

  /** Redis answers again (maybe restarted empty): this process's users are recorded there again, silently. */
  async rejoin(): Promise<void> {
    for (const [userId, state] of this.online) await this.options.shared?.join(userId, state.since);
  }

  private async sharedJoin(userId: string, now: number): Promise<{ first: boolean; since: number } | undefined> {
    if (!this.options.shared) return undefined;
    try {
      return await this.options.shared.join(userId, now);
    } catch (error) {
      this.redisFailed(error);
      return undefined; // decided by this process's connections, as without Redis
    }
  }

  /** True when the user is now offline everywhere (or Redis cannot say, and this process let them go). */
  private async sharedLeave(userId: string): Promise<boolean> {
    if (!this.options.shared) return true;
    try {
      return await this.options.shared.leave(userId);
    } catch (error) {
      this.redisFailed(error);
      return true;
    }
  }

  private redisFailed(error: unknown): void {
    this.options.log.debug('presence: redis failed, deciding from this process alone', { error: (error as Error).message });
  }

  private async announceNow(presence: PresenceState): Promise<void> {
    try {
      this.hub.broadcast(await this.storage.getCoMemberIds(presence.userId), eventFrame('presence', presence), 1.1);
    } catch (error) {
      this.options.log.error('presence announcement failed', { error });
    }
  }

  private async storeNow(userId: string, at: number): Promise<void> {
    try {
      await this.storage.setLastSeenAt(userId, at);
    } catch (error) {
      // Storage closed under a late timer, or a full disk: "last seen" is best effort.
      this.options.log.warn('could not store last_seen_at', { error });
    }
  }

  private store(userId: string, at: number): void {
    this.then(() => this.storeNow(userId, at));
  }

  /** Queues `work` (which never throws) behind the presence work before it. */
  private then(work: () => Promise<void>): void {
    this.pending = this.pending.then(work);
  }
}
