import type { Room } from '../protocol/index.js';

/**
 * The room list's contract: what the host part (features/rooms/host.ts) and the client
 * part (features/rooms/client.ts) of the slice say to each other. Every slice has this
 * shape: its wire schemas in protocol/, its contract here in contract/ (the unions of
 * host-api.ts include it), its two halves in features/<name>/, its hook in @chat/react.
 */

/**
 * Commands a client sends to the rooms part of its host. Each change carries the
 * idempotency key the client made, so a command resent to a restarted host is applied once.
 */
export type RoomsCommand =
  | { type: 'createRoom'; memberIds: string[]; name?: string; clientId?: string }
  | { type: 'leaveRoom'; roomId: string; clientId: string; block?: boolean }
  | { type: 'addMembers'; roomId: string; userIds: string[]; clientId: string };

/** What the rooms part of the host tells every client. */
export type RoomsEvent =
  /** The whole list, most recent activity first (after a refresh, new rooms, bumps: one per burst). */
  | { type: 'rooms'; rooms: Room[] }
  /** A room the user belongs to was created, or they were added to it (by them or someone else). */
  | { type: 'room'; room: Room };

export interface RoomsResults {
  createRoom: Room;
  leaveRoom: void;
  addMembers: Room;
}

/** Most recent activity first: the last message's time, else the room's creation. */
export function sortRooms(rooms: readonly Room[]): Room[] {
  const activity = (room: Room) => room.lastMessage?.createdAt ?? room.createdAt;
  return [...rooms].sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : 1));
}
