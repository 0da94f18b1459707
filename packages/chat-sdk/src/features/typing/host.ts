import { type EventData, type Message, TYPING_REFRESH_MS, TYPING_TTL_MS } from '../../protocol/index.js';
import type { HostContext } from '../../contract/host-context.js';

export interface HostTypingOptions {
  now(): number;
  /** Typing is worth nothing late: while the socket is not open it is dropped, never queued. */
  isOpen(): boolean;
  /** The server's clock minus ours, from the last sign-in (`until` is the server's time). */
  serverOffset(): number;
}

/**
 * The host part of typing. Every tab of the user calls `startTyping` on each keystroke; one
 * host serves them all, so three tabs typing in one room still send one `typing` frame per
 * `TYPING_REFRESH_MS`, and the server's `until` stays ahead of the next refresh. It also
 * keeps who else types where, and tells the tabs the list whenever it changes: a frame, the
 * typist's message, or an expiry (its own timer, so no frame is needed for that).
 */
export class HostTyping {
  /** roomId -> when our last `typing` frame went out (none since the last stop or message). */
  private readonly sentAt = new Map<string, number>();
  /** roomId -> userId -> expiresAt (our clock), for the others shown typing. */
  private readonly others = new Map<string, Map<string, number>>();
  /** roomId -> the list last told to the tabs, so a refresh that changes nothing tells nothing. */
  private readonly told = new Map<string, string>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly host: HostContext,
    private readonly options: HostTypingOptions,
  ) {}

  start(roomId: string): void {
    const now = this.options.now();
    if (!this.options.isOpen() || now - (this.sentAt.get(roomId) ?? -Infinity) < TYPING_REFRESH_MS) return;
    this.sentAt.set(roomId, now);
    this.send(roomId, false);
  }

  stop(roomId: string): void {
    const sentAt = this.sentAt.get(roomId);
    this.sentAt.delete(roomId);
    // Only when the room may still show us typing; an expired one ends by itself.
    if (sentAt !== undefined && this.options.now() - sentAt < TYPING_TTL_MS && this.options.isOpen()) this.send(roomId, true);
  }

  /** We sent a message: the server ends our typing when it arrives, and the next keystroke starts afresh. */
  sent(roomId: string): void {
    this.sentAt.delete(roomId);
  }

  /** The server's `typing`. Our own (another device of ours) is not shown: the stores hold others only. */
  received({ roomId, userId, until }: EventData<'typing'>): void {
    if (userId === this.host.session()?.user.id) return;
    let room = this.others.get(roomId);
    if (!room) this.others.set(roomId, (room = new Map()));
    if (until === 0) room.delete(userId);
    else room.set(userId, until - this.options.serverOffset());
    this.changed([roomId]);
  }

  /** A live message: its sender stopped typing there. */
  messageArrived(message: Message): void {
    if (message.senderId === this.host.session()?.user.id) this.sentAt.delete(message.roomId);
    if (this.others.get(message.roomId)?.delete(message.senderId)) this.changed([message.roomId]);
  }

  /** Who types where now, for a tab that attaches (the snapshot). */
  current(): Array<{ roomId: string; userIds: string[] }> {
    const now = this.options.now();
    return [...this.others].map(([roomId, room]) => ({ roomId, userIds: [...room].filter(([, at]) => at > now).map(([id]) => id) }));
  }

  /** The session ended or was set aside: the tabs hear that nobody types any more. */
  reset(): void {
    clearTimeout(this.timer);
    this.sentAt.clear();
    this.others.clear();
    for (const roomId of this.told.keys()) this.host.emit({ type: 'typing', roomId, userIds: [] });
    this.told.clear();
  }

  /** Drops what expired, tells the tabs of the rooms that changed, and wakes up at the next expiry. */
  private changed(roomIds: Iterable<string>): void {
    this.expire();
    // Every room told someone types, and those just changed: each hears its list if it differs.
    for (const roomId of new Set([...roomIds, ...this.told.keys()])) {
      const userIds = [...(this.others.get(roomId)?.keys() ?? [])];
      if ((this.told.get(roomId) ?? '') === userIds.join(' ')) continue;
      if (userIds.length > 0) this.told.set(roomId, userIds.join(' '));
      else this.told.delete(roomId);
      this.host.emit({ type: 'typing', roomId, userIds });
    }
    clearTimeout(this.timer);
    let next = Infinity;
    for (const room of this.others.values()) for (const expiresAt of room.values()) next = Math.min(next, expiresAt);
    if (next < Infinity) this.timer = setTimeout(() => this.changed([]), Math.max(0, next - this.options.now()));
  }

  /** Drops the typists whose time is up. */
  private expire(): void {
    const now = this.options.now();
    for (const [roomId, room] of this.others) {
      for (const [userId, expiresAt] of room) if (expiresAt <= now) room.delete(userId);
      if (room.size === 0) this.others.delete(roomId);
    }
  }

  private send(roomId: string, stop: boolean): void {
    // Fire and forget: a lost or refused typing frame only means the indicator shows a moment less.
    this.host.request('typing', stop ? { roomId, stop } : { roomId }).catch(() => undefined);
  }
}
