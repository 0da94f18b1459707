import { ChatError, type EventData, type Message, type Room, toChatError } from '../../protocol/index.js';
import type { HostContext } from '../../contract/host-context.js';
import { type ReadCommand, withCursor } from '../../contract/read-state.js';
import type { RoomList } from '../rooms/host.js';

/**
 * The host part of read state (protocol 10.4). Cursors and the user's unread count live on
 * the room list's rooms (`readSeqs`, `unreadCount`), so every tab sees them change at once.
 * `markRead` is durable like a message: the cursor is written to storage (`reads`, one row
 * per room, coalesced to the highest seq) before anything goes on the wire, sent whenever
 * the socket is open and after every reconnect or reload, and deleted once the server has
 * acknowledged it. Until then it is shown as if it were acknowledged (`overlay`).
 */
export class ReadState {
  /** roomId -> the user's cursor not yet acknowledged. */
  private readonly pending = new Map<string, number>();
  private readonly inFlight = new Set<string>();
  private retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: HostContext,
    private readonly rooms: RoomList,
    private readonly isOpen: () => boolean,
  ) {}

  /** A session starts: its pending cursors come back from storage (sent on the next connect). */
  async load(userId: string): Promise<void> {
    const rows = await this.host.storage.reads.listByUser(userId);
    if (this.me() !== userId) return;
    for (const row of rows) this.pending.set(row.roomId, Math.max(row.seq, this.pending.get(row.roomId) ?? 0));
  }

  reset(): void {
    this.pending.clear();
    this.inFlight.clear();
    clearTimeout(this.retryTimer);
  }

  /** A room as the list shows it: with the user's pending cursor applied (for RoomList). */
  readonly overlay = (room: Room): Room => {
    const seq = this.pending.get(room.id);
    const me = this.me();
    if (seq === undefined || !me) return room;
    return withCursor(room, me, seq, seq >= room.lastSeq ? 0 : undefined);
  };

  async mark(command: ReadCommand): Promise<void> {
    const me = this.me();
    if (!me) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    const room = this.rooms.get(command.roomId);
    if (!room) throw new ChatError('NOT_FOUND', `no room ${command.roomId} among this user's rooms`);
    const seq = Math.min(command.seq ?? room.lastSeq, room.lastSeq);
    if (seq <= Math.max(room.readSeqs?.[me] ?? 0, this.pending.get(room.id) ?? 0)) return;
    this.pending.set(room.id, seq);
    await this.host.storage.reads.put({ userId: me, roomId: room.id, seq });
    this.rooms.update(room.id, this.overlay);
    this.flush();
  }

  /** Sends every pending cursor not in flight (on connect, after a mark, after a retryable failure). */
  flush(): void {
    if (!this.isOpen()) return;
    for (const [roomId, seq] of this.pending) if (!this.inFlight.has(roomId)) void this.send(roomId, seq);
  }

  /**
   * Messages about to be delivered, just before they bump their room: others' messages past
   * the cursor and the list's lastSeq are unread (the bump tells the clients).
   */
  delivered(roomId: string, messages: readonly Message[]): void {
    const me = this.me();
    const room = this.rooms.get(roomId);
    if (!me || !room) return;
    const cursor = Math.max(room.readSeqs?.[me] ?? 0, this.pending.get(roomId) ?? 0);
    const fresh = messages.filter((m) => m.senderId !== me && m.seq > room.lastSeq && m.seq > cursor).length;
    if (fresh > 0) this.rooms.update(roomId, (r) => ({ ...r, unreadCount: (r.unreadCount ?? 0) + fresh }));
  }

  /** The server's `read`: someone's cursor moved (the user's own, from another device, with their count). */
  read(data: EventData<'read'>): void {
    const me = this.me();
    const own = data.userId === me && (this.pending.get(data.roomId) ?? 0) <= data.seq;
    this.rooms.update(data.roomId, (room) => withCursor(room, data.userId, data.seq, own ? data.unreadCount : undefined));
  }

  private async send(roomId: string, seq: number): Promise<void> {
    const me = this.me()!;
    this.inFlight.add(roomId);
    try {
      const reply = await this.host.request('mark_read', { roomId, seq });
      if (this.me() !== me) return;
      if ((this.pending.get(roomId) ?? 0) <= seq) this.pending.delete(roomId);
      this.rooms.update(roomId, (room) => withCursor(room, me, reply.seq, this.pending.has(roomId) ? undefined : reply.unreadCount));
      this.host.track(this.host.storage.reads.delete(me, roomId, seq));
    } catch (error) {
      const failure = toChatError(error);
      if (this.me() !== me) return;
      if (failure.retryable) {
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.flush(), Math.max(failure.retryAfterMs ?? 0, 1000));
        return;
      }
      // Final (not a member any more, the room is gone): this cursor can never be stored.
      if ((this.pending.get(roomId) ?? 0) <= seq) this.pending.delete(roomId);
      this.host.track(this.host.storage.reads.delete(me, roomId, seq));
      this.host.report(failure);
    } finally {
      this.inFlight.delete(roomId);
    }
    if ((this.pending.get(roomId) ?? 0) > seq) this.flush();
  }

  private me(): string | undefined {
    return this.host.session()?.user.id;
  }
}
