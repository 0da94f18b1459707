import type { Room } from '../protocol/index.js';

/**
 * Read state's contract (protocol 10.4). The host part (features/read-state/host.ts) keeps
 * each room's cursors (`Room.readSeqs`) and the user's unread count (`Room.unreadCount`) on
 * the rooms of the room list, so they reach every client through the list's own events.
 */
export type ReadCommand =
  /** Moves the user's cursor up to `seq` (default: the room's newest); resolves once it is stored. */
  { type: 'markRead'; roomId: string; seq?: number | undefined };

export interface ReadResults {
  markRead: void;
}

/**
 * `room` with `userId`'s cursor moved up to `seq`; with the user's own `unread` when given.
 * The same object when nothing changes, so stores keep their identity.
 */
export function withCursor(room: Room, userId: string, seq: number, unread?: number): Room {
  const held = room.readSeqs?.[userId] ?? 0;
  const moved = seq > held;
  if (!moved && (unread === undefined || unread === room.unreadCount)) return room;
  const next: Room = { ...room };
  if (moved) next.readSeqs = { ...room.readSeqs, [userId]: seq };
  if (unread !== undefined) next.unreadCount = unread;
  return next;
}
