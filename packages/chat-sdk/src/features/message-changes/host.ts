import { ChatError, type Message, type Room } from '../../protocol/index.js';
import { KeyedRuns } from '../../contract/keyed-runs.js';
import type { HostContext } from '../../contract/host-context.js';
import type { RoomList } from '../rooms/host.js';

/** How many (message, rev) pairs are remembered to pass each change on once. */
const SEEN = 4096;

/**
 * The host part of message changes (protocol 10.5). Changed messages (a `message_updated`
 * event, the reply to the user's own change, a `get_changes` page) go to every client once
 * (`messageUpdates`) and into the offline cache. For each room clients hold messages of, it
 * keeps the highest change counter (`rev`) applied, stored with the room's cache (`roomRevs`):
 * after every (re)connect it asks `get_changes` from there, page by page, for the rooms whose
 * `Room.lastRev` is above it. No time window: a client away for a month asks for exactly
 * what changed. Live events move the counter only while they follow it without a hole; one
 * that skips ahead asks for the hole.
 */
export class HostChanges {
  /** roomId -> the rev up to which every change was applied; rooms nobody holds are absent. */
  private readonly revs = new Map<string, number>();
  /** message id -> the highest rev passed on (a reply and its event carry the same change). */
  private readonly seen = new Map<string, number>();
  /** Messages with a change of the user's in flight -> their events that came before its reply. */
  private readonly held = new Map<string, Message[]>();
  private readonly runs = new KeyedRuns((error) => this.host.report(error));

  constructor(
    private readonly host: HostContext,
    private readonly rooms: RoomList,
  ) {}

  /** A session starts: the counters stored with its cached rooms. */
  async load(userId: string): Promise<void> {
    const revs = await this.host.storage.cache.getRevs(userId);
    if (this.me() !== userId) return;
    for (const [roomId, rev] of Object.entries(revs)) this.revs.set(roomId, Math.max(rev, this.revs.get(roomId) ?? 0));
  }

  reset(): void {
    this.held.clear();
    this.revs.clear();
    this.seen.clear();
    this.runs.cancelAgain();
  }

  /** The user left a room (its cache and counter go with Delivery.forget). */
  forget(roomId: string): void {
    this.revs.delete(roomId);
    this.runs.cancelAgain(roomId);
  }

  /** The counter of a room, if clients hold it (tests and snapshots read it). */
  rev(roomId: string): number | undefined {
    return this.revs.get(roomId);
  }

  /**
   * A page of history anchored a room (a client holds its messages now): its counter starts
   * at the list's `lastRev` (or the page's newest change). A list older than the page only
   * makes the next catch-up ask for a few changes twice, which changes nothing.
   */
  anchor(roomId: string, messages: readonly Message[]): void {
    if (this.revs.has(roomId)) return;
    let rev = this.rooms.get(roomId)?.lastRev ?? 0;
    for (const m of messages) rev = Math.max(rev, m.rev ?? 0);
    this.revs.set(roomId, rev);
    this.write(roomId, [], rev);
  }

  /**
   * A change of the user's to this message goes on the wire: its event (which follows the
   * reply, and may overtake it while the outbox records the reply) waits until the reply is
   * passed on, so clients swap the pending change for the server's copy in one step (one
   * render, not two). `release` ends the wait whatever happened.
   */
  hold(senderId: string, clientId: string): void {
    const key = `${senderId}\u0000${clientId}`;
    if (!this.held.has(key)) this.held.set(key, []);
  }

  /** The change's request ended: what waited goes on (each change is passed on once anyway). */
  release(senderId: string, clientId: string): void {
    const key = `${senderId}\u0000${clientId}`;
    const waiting = this.held.get(key);
    this.held.delete(key);
    for (const message of waiting ?? []) this.live(message);
  }

  /** A changed message, live: an event, or (`reply`) the reply to the user's own change. */
  live(message: Message, reply = false): void {
    const waiting = this.held.get(`${message.senderId}\u0000${message.clientId}`);
    if (waiting && !reply) {
      waiting.push(message);
      return;
    }
    this.apply(message);
    if (reply) this.release(message.senderId, message.clientId);
  }

  private apply(message: Message): void {
    const roomId = message.roomId;
    this.pass(roomId, [message]);
    const held = this.revs.get(roomId);
    const rev = message.rev ?? 0;
    if (held === undefined || rev <= held) return;
    if (rev === held + 1 && !this.runs.isRunning(roomId)) {
      this.revs.set(roomId, rev);
      this.write(roomId, [], rev);
    } else {
      void this.fill(roomId); // a hole (a change this host never heard of): ask for it
    }
  }

  /** A change refused for good: what the room holds may be behind the server; ask. */
  refused(roomId: string): void {
    if (this.revs.has(roomId)) void this.fill(roomId);
  }

  /** After a (re)connect: every held room whose counter is behind the server's. */
  catchUp(rooms: readonly Room[]): Promise<void> {
    const work: Promise<void>[] = [];
    for (const room of rooms) {
      const held = this.revs.get(room.id);
      if (held !== undefined && room.lastRev !== undefined && room.lastRev > held) work.push(this.fill(room.id));
    }
    return Promise.all(work).then(() => undefined);
  }

  /** Passes changed messages on once each (newer than what was passed), to clients, the list and the cache. */
  private pass(roomId: string, messages: readonly Message[], rev?: number): void {
    const fresh = messages.filter((m) => {
      const r = m.rev ?? 0;
      if (m.roomId !== roomId || (this.seen.get(m.id) ?? -1) >= r) return false;
      this.seen.delete(m.id);
      this.seen.set(m.id, r);
      if (this.seen.size > SEEN) this.seen.delete(this.seen.keys().next().value as string);
      return true;
    });
    if (fresh.length > 0) {
      this.host.emit({ type: 'messageUpdates', roomId, messages: fresh });
      // The room list's preview and counter follow (the same room object when neither moved).
      this.rooms.update(roomId, (room) => {
        let next = room;
        for (const m of fresh) {
          if (next.lastMessage?.id === m.id && (next.lastMessage.rev ?? 0) < (m.rev ?? 0)) next = { ...next, lastMessage: m };
          if ((m.rev ?? 0) > (next.lastRev ?? 0)) next = { ...next, lastRev: m.rev ?? 0 };
        }
        return next;
      });
    }
    if (fresh.length > 0 || rev !== undefined) this.write(roomId, fresh, rev);
  }

  private write(roomId: string, messages: Message[], rev?: number): void {
    const me = this.me();
    if (me) this.host.track(this.host.storage.cache.updateMessages(me, roomId, messages, rev));
  }

  /** Asks `get_changes` from the room's counter until nothing is left; one run per room at a time. */
  private fill(roomId: string): Promise<void> {
    return this.runs.run(roomId, async () => {
      for (;;) {
        const after = this.revs.get(roomId);
        if (after === undefined) return; // forgotten meanwhile (left, logged out)
        const page = await this.host.request('get_changes', { roomId, afterRev: after, limit: 100 });
        const fresh = page.messages.filter((m) => (m.rev ?? 0) > after);
        let top = after;
        for (const m of fresh) top = Math.max(top, m.rev ?? 0);
        if (page.hasMore && top === after) {
          throw new ChatError('INTERNAL', `the server said more changes follow rev ${after} in room ${roomId} but sent none`);
        }
        // The last page brings the counter to the room's: nothing between is left to ask for.
        const rev = page.hasMore ? top : Math.max(top, page.lastRev);
        if (!this.revs.has(roomId)) return;
        this.revs.set(roomId, Math.max(rev, this.revs.get(roomId) ?? 0));
        this.pass(roomId, fresh, rev);
        if (!page.hasMore) return;
      }
    });
  }

  private me(): string | undefined {
    return this.host.session()?.user.id;
  }
}
