import { type Presence as PresenceState, eventFrame } from '@chat/sdk/protocol';
import type { Hub } from './hub.js';
import type { Logger } from './log.js';
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
 */
export class PresenceTracker {
  private readonly online = new Map<string, Online>();
  private readonly offlineListeners: Array<(userId: string) => void> = [];
  /** The storage work of presence changes, one after another; `close()` waits for it. */
  private pending: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: AsyncStorage,
    private readonly hub: Hub,
    private readonly options: { graceMs: number; now: () => number; log: Logger },
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
    const stored = await this.storage.getLastSeenAt(asked.filter((id) => !this.online.has(id)));
    return asked.map((userId) =>
      this.online.has(userId)
        ? { userId, online: true, lastSeenAt: this.online.get(userId)!.since }
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
    this.online.set(userId, { since: now });
    this.store(userId, now);
    this.announce({ userId, online: true, lastSeenAt: now });
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
    this.store(userId, state.goneAt);
    this.announce({ userId, online: false, lastSeenAt: state.goneAt });
    for (const listener of this.offlineListeners) listener(userId);
  }

  private announce(presence: PresenceState): void {
    this.then(async () => {
      try {
        this.hub.broadcast(await this.storage.getCoMemberIds(presence.userId), eventFrame('presence', presence), 1.1);
      } catch (error) {
        this.options.log.error('presence announcement failed', { error });
      }
    });
  }

  private store(userId: string, at: number): void {
    this.then(async () => {
      try {
        await this.storage.setLastSeenAt(userId, at);
      } catch (error) {
        // Storage closed under a late timer, or a full disk: "last seen" is best effort.
        this.options.log.warn('could not store last_seen_at', { error });
      }
    });
  }

  /** Queues `work` (which never throws) behind the presence work before it. */
  private then(work: () => Promise<void>): void {
    this.pending = this.pending.then(work);
  }
}
