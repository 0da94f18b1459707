import { type EventData, MAX_USER_IDS } from '../../protocol/index.js';
import type { HostContext } from '../../contract/host-context.js';
import type { PresenceMap, UserPresence } from '../../contract/presence.js';

interface WatchedSet {
  ids: string[];
  /** How many stores (of any tab) watch it. */
  count: number;
  /** The value last told, so a set hears only of real changes. */
  told: string;
}

/**
 * The host part of presence: the sets every tab of the user watches, merged into one watch
 * list (two tabs showing Ada watch her once), one `get_presence` for what nobody asked yet
 * (batched, 100 ids a request) and again for everyone watched after each reconnect, and the
 * server's live `presence` changes, each told to the tabs as the value of the sets it
 * changes. The server tells co-members only; ids it leaves out (strangers) stay unknown.
 */
export class HostPresence {
  private readonly sets = new Map<string, WatchedSet>();
  /** userId -> how many watched sets hold it. */
  private readonly watched = new Map<string, number>();
  private readonly known = new Map<string, UserPresence>();
  private pending = new Set<string>();
  /** Asked and not answered yet: a set watching them meanwhile hears the answer too. */
  private readonly asking = new Set<string>();
  private flushing = false;

  constructor(
    private readonly host: HostContext,
    private readonly isOpen: () => boolean,
  ) {}

  watch(key: string): void {
    const held = this.sets.get(key);
    if (held) {
      held.count++;
      // A tab that starts watching a set others watch needs its value now; the others ignore an equal one.
      this.host.emit({ type: 'presence', key, presence: JSON.parse(held.told) as PresenceMap });
      return;
    }
    const ids = key ? [...new Set(key.split(' '))].slice(0, 1000) : [];
    this.sets.set(key, { ids, count: 1, told: '{}' });
    for (const userId of ids) {
      this.watched.set(userId, (this.watched.get(userId) ?? 0) + 1);
      if (!this.known.has(userId) && !this.asking.has(userId)) this.pending.add(userId);
    }
    this.tell(ids);
    this.flush();
  }

  unwatch(key: string): void {
    const set = this.sets.get(key);
    if (!set || --set.count > 0) return;
    this.sets.delete(key);
    for (const userId of set.ids) {
      const count = (this.watched.get(userId) ?? 0) - 1;
      if (count > 0) {
        this.watched.set(userId, count);
        continue;
      }
      this.watched.delete(userId);
      this.known.delete(userId);
      this.pending.delete(userId);
    }
  }

  /** After every (re)connect: changes may have been missed, so everyone watched is asked again. */
  refresh(): void {
    for (const userId of this.watched.keys()) this.pending.add(userId);
    this.flush();
  }

  /** The server's `presence`, for people sharing a room with the user. */
  received({ userId, online, lastSeenAt }: EventData<'presence'>): void {
    if (!this.watched.has(userId)) return;
    this.known.set(userId, { online, lastSeenAt });
    this.tell([userId]);
  }

  /** A room was created: its members may have been strangers before, so those watched and unknown are asked now. */
  roomCreated(memberIds: readonly string[]): void {
    for (const userId of memberIds) {
      if (this.watched.has(userId) && !this.known.has(userId) && !this.asking.has(userId)) this.pending.add(userId);
    }
    this.flush();
  }

  /** Another session: what was known is the last user's view (the tabs hear so); their watches stay and are asked again. */
  reset(): void {
    this.known.clear();
    this.pending = new Set(this.watched.keys());
    this.tell([...this.watched.keys()]);
  }

  /** Tells every set holding one of `userIds` its value, if it changed. */
  private tell(userIds: readonly string[]): void {
    const changed = new Set(userIds);
    for (const [key, set] of this.sets) {
      if (!set.ids.some((id) => changed.has(id))) continue;
      const presence: Record<string, UserPresence> = {};
      for (const id of set.ids) {
        const state = this.known.get(id);
        if (state) presence[id] = state;
      }
      const told = JSON.stringify(presence);
      if (told === set.told) continue;
      set.told = told;
      this.host.emit({ type: 'presence', key, presence });
    }
  }

  /** Asks for what is pending, once the current tick's watches are in, 100 ids a request. */
  private flush(): void {
    if (this.flushing || this.pending.size === 0 || !this.isOpen()) return;
    this.flushing = true;
    queueMicrotask(() => {
      this.flushing = false;
      const ids = [...this.pending];
      this.pending.clear();
      for (let i = 0; i < ids.length; i += MAX_USER_IDS) void this.fetch(ids.slice(i, i + MAX_USER_IDS));
    });
  }

  private async fetch(userIds: string[]): Promise<void> {
    const session = this.host.session();
    for (const userId of userIds) this.asking.add(userId);
    try {
      const { presence } = await this.host.request('get_presence', { userIds });
      if (this.host.session() !== session) return;
      const answered = presence.filter((p) => this.watched.has(p.userId));
      for (const { userId, online, lastSeenAt } of answered) this.known.set(userId, { online, lastSeenAt });
      this.tell(answered.map((p) => p.userId));
    } catch {
      // Lost with the connection: the reconnect asks again. Anything else leaves them unknown.
    } finally {
      for (const userId of userIds) this.asking.delete(userId);
    }
  }
}
