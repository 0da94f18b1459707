import { ChatError, type Message, type Room } from '../../protocol/index.js';
import type { HostContext } from '../../contract/host-context.js';
import type { Session } from '../../contract/host-api.js';
import { type RoomsCommand, sortRooms } from '../../contract/rooms.js';

/** Rooms a `get_user_rooms` page holds when the SDK asks: a room is 16 KB at most, a page 400 KB. */
export const ROOMS_PAGE_LIMIT = 25;
/**
 * The cached list is rewritten at most once per this long: a busy room changes the list on
 * every message, and the whole list is one IndexedDB record. What a crash loses is at most
 * this much of a cache that the next connect refreshes anyway.
 */
export const ROOMS_SAVE_INTERVAL_MS = 1000;

/**
 * The host part of the room list: the list itself (cached per user, shown again on a
 * reload before any network), refreshed page by page on every connect, changed by live
 * messages, new rooms and membership events. A refresh that was slower than live events
 * never undoes what they changed. Changes are applied to a map and the list is sorted and
 * told once per burst (a microtask later), never once per event, and cached at most once a
 * second.
 */
export class RoomList {
  private readonly byId = new Map<string, Room>();
  private sorted: Room[] = [];
  private dirty = false;
  private loaded = false;
  /** Counts changes from live events, so a slower room-list reply cannot undo them. */
  private epoch = 0;
  /** Per room, the epoch of its last live change (a left room stays here as gone). */
  private readonly touched = new Map<string, number>();
  private readonly gone = new Set<string>();
  /** `room` events waiting for the list that holds their rooms to be told first. */
  private readonly newRooms: Room[] = [];
  private scheduled = false;
  private saveNext = false;
  private pendingSave: { userId: string; rooms: Room[] } | null = null;
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private lastSaveAt = -Infinity;
  /** Rooms a message came for that the list did not hold: the first page is fetched once for each. */
  private readonly sought = new Set<string>();
  private topRequest: Promise<void> | null = null;

  private readonly onLeft: (roomId: string) => void;
  private readonly overlay: (room: Room) => Room;

  constructor(
    private readonly host: HostContext,
    hooks: {
      /** The user left a room: whatever tracks it (delivery) forgets it. */
      onLeft?: (roomId: string) => void;
      /** Shows what the server does not know yet on each room (read state's pending cursor). */
      overlay?: (room: Room) => Room;
    } = {},
  ) {
    this.onLeft = hooks.onLeft ?? (() => {});
    this.overlay = hooks.overlay ?? ((room) => room);
  }

  /** The list for a snapshot: null until this session's list has been read. */
  current(): Room[] | null {
    return this.loaded ? this.list() : null;
  }

  get(roomId: string): Room | undefined {
    return this.byId.get(roomId);
  }

  /** A session starts: its cached list shows at once; live rooms that came meanwhile are newer. */
  async load(session: Session): Promise<void> {
    const cached = await this.host.storage.cache.getRooms(session.user.id);
    if (this.host.session() !== session) return;
    const live = this.byId.size > 0;
    this.loaded = true;
    for (const room of cached) if (!this.byId.has(room.id) && !this.gone.has(room.id)) this.byId.set(room.id, room);
    this.changed(live);
    this.flush();
  }

  /** The session ended or was set aside: nothing of it may show to the next one. */
  reset(): void {
    this.byId.clear();
    this.sorted = [];
    this.dirty = false;
    this.saveNext = false;
    this.newRooms.length = 0;
    this.loaded = false;
    this.touched.clear();
    this.gone.clear();
    this.sought.clear();
  }

  /**
   * On every connect: the server's list, a page at a time (the first shows at once),
   * merged with what live events changed meanwhile. A page that does not move the cursor
   * on stops the refresh with an error rather than asking for ever.
   */
  async refresh(): Promise<Room[]> {
    const since = this.epoch;
    const fetched = new Map<string, Room>();
    const cursors = new Set<string>();
    let cursor: string | null | undefined;
    try {
      do {
        const page = await this.host.request('get_user_rooms', { limit: ROOMS_PAGE_LIMIT, ...(cursor ? { cursor } : {}) });
        for (const room of page.rooms) fetched.set(room.id, room);
        this.loaded = true;
        // The first page shows at once; the rest is told (and cached) once, when all is in:
        // re-sending and re-writing a growing list per page would cost the square of its size.
        this.merge(page.rooms, since, cursors.size === 0 ? 'tell' : 'hold');
        cursor = page.nextCursor;
        if (cursor && (cursors.has(cursor) || page.rooms.length === 0)) {
          throw new ChatError('INTERNAL', 'the server paged the room list without progress');
        }
        if (cursor) cursors.add(cursor);
      } while (cursor);
    } catch (error) {
      this.changed(false); // what came in shows; the next connect completes it
      throw error;
    }
    // The whole list is in: rooms no page named (left elsewhere, while offline) go, unless
    // a live event brought them in since the refresh began.
    for (const id of [...this.byId.keys()]) {
      if (!fetched.has(id) && (this.touched.get(id) ?? 0) <= since) this.byId.delete(id);
    }
    this.changed();
    this.flush();
    return [...fetched.values()];
  }

  async create(command: Extract<RoomsCommand, { type: 'createRoom' }>): Promise<Room> {
    const data: Record<string, unknown> = { memberIds: command.memberIds };
    if (command.name !== undefined) data.name = command.name;
    if (command.clientId !== undefined) data.clientId = command.clientId;
    const { room } = await this.host.request('create_room', data);
    this.upsert(room);
    this.flush();
    return room;
  }

  async leave(command: Extract<RoomsCommand, { type: 'leaveRoom' }>): Promise<void> {
    const data: Record<string, unknown> = { roomId: command.roomId, clientId: command.clientId };
    if (command.block) data.block = true;
    await this.host.request('leave_room', data);
    this.remove(command.roomId);
    this.flush();
  }

  async addMembers(command: Extract<RoomsCommand, { type: 'addMembers' }>): Promise<Room> {
    const { room } = await this.host.request('add_members', { roomId: command.roomId, userIds: command.userIds, clientId: command.clientId });
    this.upsert(room);
    this.flush();
    return room;
  }

  /** The server's `room_created` (a new room, or one the user was added to). */
  created(room: Room): void {
    this.upsert(room);
    this.newRooms.push(room);
  }

  /** The server's `members_added`: the room's members changed. */
  membersAdded(room: Room): void {
    this.upsert(room);
  }

  /** The server's `member_left`: the user themselves (another tab, another device) or someone else. */
  memberLeft(roomId: string, userId: string): void {
    if (userId === this.host.session()?.user.id) {
      this.remove(roomId);
      return;
    }
    const room = this.byId.get(roomId);
    if (room) this.upsert({ ...room, memberIds: room.memberIds.filter((id) => id !== userId) });
  }

  /**
   * Messages were delivered: the room moves up with its newest one. A room the list does
   * not hold (it moved above the cursor while a refresh paged, or its event was lost) is
   * now among the most recent: the first page brings it.
   */
  bump(roomId: string, messages: readonly Message[]): void {
    const room = this.get(roomId);
    const newest = messages.reduce<Message | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
    if (room && newest && newest.seq > room.lastSeq) this.upsert({ ...room, lastSeq: newest.seq, lastMessage: newest });
    else if (!room && this.loaded && !this.gone.has(roomId) && !this.sought.has(roomId)) {
      this.sought.add(roomId); // once per room: a server sending messages of a room it never lists gets one look
      void this.fetchTop();
    }
  }

  /**
   * Changes one room in place (its read state, its change counter): no bump. A refresh may
   * replace the read state; the counter it never takes back (`notBehind`).
   */
  update(roomId: string, change: (room: Room) => Room): void {
    const room = this.byId.get(roomId);
    const next = room && change(room);
    if (!next || next === room) return;
    this.byId.set(roomId, next);
    this.changed();
  }

  /** The first page again, merged like a refresh's; one at a time. */
  private fetchTop(): Promise<void> {
    this.topRequest ??= (async () => {
      const since = this.epoch;
      const session = this.host.session();
      try {
        const page = await this.host.request('get_user_rooms', { limit: ROOMS_PAGE_LIMIT });
        if (this.host.session() === session) this.merge(page.rooms, since, 'save');
      } catch (error) {
        this.host.report(error);
      } finally {
        this.topRequest = null;
      }
    })();
    return this.topRequest;
  }

  /** A room as an event or reply has it; its messages never go back (a lower lastSeq keeps ours). */
  private upsert(room: Room): void {
    const existing = this.byId.get(room.id);
    const next = existing && existing.lastSeq > room.lastSeq ? { ...room, lastSeq: existing.lastSeq, lastMessage: existing.lastMessage } : room;
    this.gone.delete(room.id);
    this.touched.set(room.id, ++this.epoch);
    this.byId.set(room.id, next);
    this.changed();
  }

  private remove(roomId: string): void {
    this.touched.set(roomId, ++this.epoch);
    this.gone.add(roomId);
    if (this.byId.delete(roomId)) this.changed();
    this.onLeft(roomId);
  }

  /**
   * One page of a refresh: rooms changed by an event since the request left keep the
   * event's version. `tell`: shown soon, not cached; `hold`: shown with the next change;
   * `save`: shown and cached.
   */
  private merge(rooms: readonly Room[], since: number, how: 'tell' | 'hold' | 'save'): void {
    for (const room of rooms) {
      const live = this.byId.get(room.id);
      if ((this.touched.get(room.id) ?? 0) > since) {
        if (!live || live.lastSeq >= room.lastSeq) continue; // newer live, or left meanwhile
      }
      this.byId.set(room.id, live ? notBehind(room, live) : room);
    }
    if (how === 'hold') this.dirty = true;
    else this.changed(how === 'save');
  }

  /** Marks the list changed; it is sorted, told and cached once, after the current burst. */
  private changed(save = true): void {
    this.dirty = true;
    this.saveNext ||= save;
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  private list(): Room[] {
    if (this.dirty) this.sorted = sortRooms([...this.byId.values()].map(this.overlay));
    return this.sorted;
  }

  /** Tells the clients the list (then the new rooms, so a room is in the list when its event comes). */
  private flush(): void {
    if (!this.dirty || !this.loaded) return;
    const rooms = this.list();
    this.dirty = false;
    this.host.emit({ type: 'rooms', rooms });
    if (this.saveNext) this.save(rooms);
    this.saveNext = false;
    for (const room of this.newRooms.splice(0)) this.host.emit({ type: 'room', room });
  }

  /** Caches the list now when the last write is a second old, else once that second is up (the newest list then). */
  private save(rooms: Room[]): void {
    const session = this.host.session();
    if (!session) return;
    this.pendingSave = { userId: session.user.id, rooms };
    if (this.saveTimer !== undefined) return;
    const wait = this.lastSaveAt + ROOMS_SAVE_INTERVAL_MS - Date.now();
    if (wait <= 0) return this.flushCache();
    this.saveTimer = setTimeout(() => this.flushCache(), wait);
  }

  /** Writes the list waiting to be cached, if any, at once (the host closes). */
  flushCache(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    const pending = this.pendingSave;
    if (!pending) return;
    this.pendingSave = null;
    this.lastSaveAt = Date.now();
    this.host.track(this.host.storage.cache.putRooms(pending.userId, pending.rooms));
  }
}

/**
 * A room from a reply, but never behind what live changes (`update`) already showed: the
 * change counter and the preview's rev only go up. A reply read before a change can come in
 * with the change's event in one read of the socket and be handled after it.
 */
function notBehind(room: Room, live: Room): Room {
  const lastRev = Math.max(room.lastRev ?? 0, live.lastRev ?? 0);
  const ours = room.lastMessage;
  const lastMessage = ours && live.lastMessage?.id === ours.id && (live.lastMessage.rev ?? 0) > (ours.rev ?? 0) ? live.lastMessage : ours;
  return lastRev > (room.lastRev ?? 0) || lastMessage !== ours ? { ...room, lastRev, lastMessage } : room;
}
