import type { Message, Room } from '../../protocol/index.js';
import type { HostContext } from '../../contract/host-context.js';
import type { Session } from '../../contract/host-api.js';
import { type RoomsCommand, sortRooms } from '../../contract/rooms.js';

/**
 * The host part of the room list: the list itself (cached per user, shown again on a
 * reload before any network), refreshed on every connect, bumped by live messages and new
 * rooms. A refresh that was slower than live events never undoes what they changed.
 */
export class RoomList {
  private rooms: Room[] = [];
  private loaded = false;
  /** Counts changes from live events, so a slower room-list reply cannot undo them. */
  private epoch = 0;
  private readonly touched = new Map<string, number>();

  /** `overlay` shows what the server does not know yet on each room (read state's pending cursor). */
  constructor(
    private readonly host: HostContext,
    private readonly overlay: (room: Room) => Room = (room) => room,
  ) {}

  /** The list for a snapshot: null until this session's list has been read. */
  current(): Room[] | null {
    return this.loaded ? this.rooms : null;
  }

  get(roomId: string): Room | undefined {
    return this.rooms.find((room) => room.id === roomId);
  }

  /** A session starts: its cached list shows at once; live rooms that came meanwhile are newer. */
  async load(session: Session): Promise<void> {
    const cached = await this.host.storage.cache.getRooms(session.user.id);
    if (this.host.session() !== session) return;
    const live = new Set(this.rooms.map((room) => room.id));
    this.loaded = true;
    this.rooms = sortRooms([...this.rooms, ...cached.filter((room) => !live.has(room.id))].map(this.overlay));
    if (live.size > 0) this.save();
    this.host.emit({ type: 'rooms', rooms: this.rooms });
  }

  /** The session ended or was set aside: nothing of it may show to the next one. */
  reset(): void {
    this.rooms = [];
    this.loaded = false;
    this.touched.clear();
  }

  /** On every connect: the server's list, merged with what live events changed meanwhile. */
  async refresh(): Promise<Room[]> {
    const since = this.epoch;
    const { rooms } = await this.host.request('get_user_rooms', {});
    this.loaded = true;
    this.set(this.withLive(rooms, since));
    return rooms;
  }

  async create(command: RoomsCommand): Promise<Room> {
    const data: Record<string, unknown> = { memberIds: command.memberIds };
    if (command.name !== undefined) data.name = command.name;
    const { room } = await this.host.request('create_room', data);
    this.upsert(room);
    return room;
  }

  /** The server's `room_created`. */
  created(room: Room): void {
    this.upsert(room);
    this.host.emit({ type: 'room', room });
  }

  /** Messages were delivered: the room moves up with its newest one. */
  bump(roomId: string, messages: readonly Message[]): void {
    const room = this.get(roomId);
    const newest = messages.reduce<Message | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
    if (room && newest && newest.seq > room.lastSeq) this.upsert({ ...room, lastSeq: newest.seq, lastMessage: newest });
  }

  /**
   * Changes one room in place (its read state): no bump, and a refresh may replace it.
   * `quiet`: tell no one yet, a `bump` of the same room follows at once (one event, not two).
   */
  update(roomId: string, change: (room: Room) => Room, quiet = false): void {
    const room = this.get(roomId);
    const next = room && change(room);
    if (!next || next === room) return;
    const rooms = this.rooms.map((r) => (r === room ? next : r));
    if (quiet) this.rooms = rooms;
    else this.set(rooms);
  }

  private upsert(room: Room): void {
    const existing = this.get(room.id);
    if (existing && existing.lastSeq > room.lastSeq) return;
    this.touched.set(room.id, ++this.epoch);
    this.set([room, ...this.rooms.filter((r) => r.id !== room.id)]);
  }

  /** Rooms created or bumped by an event since the request left may be newer than the reply. */
  private withLive(fetched: Room[], since: number): Room[] {
    const byId = new Map(fetched.map((room) => [room.id, room]));
    for (const room of this.rooms) {
      if ((this.touched.get(room.id) ?? 0) <= since) continue;
      const other = byId.get(room.id);
      if (!other || other.lastSeq < room.lastSeq) byId.set(room.id, room);
    }
    return [...byId.values()];
  }

  private set(rooms: Room[]): void {
    this.rooms = sortRooms(rooms.map(this.overlay));
    this.host.emit({ type: 'rooms', rooms: this.rooms });
    this.save();
  }

  private save(): void {
    const session = this.host.session();
    if (session) this.host.track(this.host.storage.cache.putRooms(session.user.id, this.rooms));
  }
}
