import type { Room } from '../../protocol/index.js';
import { checkId, checkIds, checkRoomName } from '../../protocol/guards.js';
import { normalizeMemberIds } from '../../protocol/members.js';
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
    const memberIds = checkIds('create_room', 'memberIds', input?.memberIds, { min: 0, max: Infinity });
    const name = checkRoomName('create_room', input.name);
    normalizeMemberIds(memberIds, userId);
    return this.call({ type: 'createRoom', memberIds, clientId: key(), ...(name !== null ? { name } : {}) });
  }

  /** Leaves a room (with `block`, whoever added the user may not add them again). */
  async leave(roomId: string, block = false): Promise<void> {
    const clientId = key();
    checkId('leave_room', 'roomId', roomId);
    return this.call({ type: 'leaveRoom', roomId, clientId, ...(block ? { block } : {}) });
  }

  async addMembers(roomId: string, userIds: string[]): Promise<Room> {
    const clientId = key();
    checkId('add_members', 'roomId', roomId);
    return this.call({ type: 'addMembers', roomId, userIds: checkIds('add_members', 'userIds', userIds), clientId });
  }
}

/** An idempotency key made once per call, so a command resent to a restarted host is applied once. */
const key = (): string => nanoid();
