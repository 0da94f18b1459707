import { type Room, normalizeMemberIds, parseRequestData } from '../../protocol/index.js';
import type { HostEventHandlers, HostLink } from '../../contract/host-api.js';
import { type Store, ValueStore } from '../../contract/store.js';
import { nanoid } from 'nanoid';

/**
 * The client part of the room list: `client.rooms` (fed by the host's `rooms` events),
 * `client.createRoom` (checked here, run by the host part) and the `room` event.
 */
export class ClientRooms {
  private readonly list = new ValueStore<Room[]>([]);
  /** The user's rooms, most recent activity first. */
  readonly store: Store<Room[]> = this.list;

  /** The host events of this slice. */
  readonly hostEvents: Pick<HostEventHandlers, 'rooms' | 'room'>;

  constructor(
    private readonly call: HostLink['call'],
    onRoom: (room: Room) => void,
  ) {
    this.hostEvents = {
      rooms: (event) => this.list.set(event.rooms),
      room: (event) => onRoom(event.room),
    };
  }

  has(roomId: string): boolean {
    return this.list.getSnapshot().some((room) => room.id === roomId);
  }

  /** Another user signed in here: none of the last one's rooms may show. */
  clear(): void {
    this.list.set([]);
  }

  /** Bad input throws a ChatError at once, as the server would answer it. */
  async create(input: { memberIds: string[]; name?: string | null }, userId: string): Promise<Room> {
    const parsed = parseRequestData('create_room', { memberIds: input.memberIds, name: input.name });
    if (!parsed.ok) throw parsed.error;
    normalizeMemberIds(parsed.value.memberIds, userId);
    return this.call({
      type: 'createRoom',
      memberIds: parsed.value.memberIds,
      clientId: key(),
      ...(parsed.value.name != null ? { name: parsed.value.name } : {}),
    });
  }

  /** Leaves a room (with `block`, whoever added the user may not add them again). */
  async leave(roomId: string, block = false): Promise<void> {
    const clientId = key();
    const parsed = parseRequestData('leave_room', { roomId, clientId });
    if (!parsed.ok) throw parsed.error;
    return this.call({ type: 'leaveRoom', roomId, clientId, ...(block ? { block } : {}) });
  }

  async addMembers(roomId: string, userIds: string[]): Promise<Room> {
    const clientId = key();
    const parsed = parseRequestData('add_members', { roomId, userIds, clientId });
    if (!parsed.ok) throw parsed.error;
    return this.call({ type: 'addMembers', roomId, userIds: parsed.value.userIds, clientId });
  }
}

/** An idempotency key made once per call, so a command resent to a restarted host is applied once. */
const key = (): string => nanoid();
