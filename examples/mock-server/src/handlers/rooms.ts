import { ChatError, eventFrame, normalizeMemberIds } from '@chat/sdk/protocol';
import { newId } from '../sessions.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';
import { wellFormed } from '../text.js';

/** The caller's rooms, most recent activity first. */
export const getUserRooms: Handler<'get_user_rooms'> = (ctx, connection) => {
  const { user } = authOf(connection);
  return { data: { rooms: ctx.storage.getUserRooms(user.id) } };
};

/**
 * A room of the caller and 1 to 99 others (duplicates and the caller dropped first; each
 * must exist). Everyone's connections get `room_created`, after the reply.
 */
export const createRoom: Handler<'create_room'> = (ctx, connection, data) => {
  const { user } = authOf(connection);
  const others = normalizeMemberIds(data.memberIds, user.id);
  if (others.length + 1 > ctx.options.limits.maxRoomMembers) {
    throw new ChatError('TOO_LARGE', `a room holds at most ${ctx.options.limits.maxRoomMembers} members on this server`);
  }
  const known = new Set(ctx.storage.getUsersByIds(others).map((u) => u.id));
  const missing = others.filter((id) => !known.has(id));
  if (missing.length > 0) throw new ChatError('NOT_FOUND', `no such user: ${missing.slice(0, 3).join(', ')}`);
  ctx.limits.room(user.id);
  const room = ctx.storage.createRoom(
    { id: newId('r'), name: data.name == null ? null : wellFormed(data.name), memberIds: [user.id, ...others], createdBy: user.id, createdAt: ctx.now() },
    { beforeCommit: ctx.faults.beforeCommit },
  );
  return { data: { room }, after: () => ctx.hub.broadcast(room.memberIds, eventFrame('room_created', { room })) };
};
