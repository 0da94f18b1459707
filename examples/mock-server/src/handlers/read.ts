import { ChatError, type Room, eventFrame } from '@chat/sdk/protocol';
import type { ServerContext } from '../context.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';

/**
 * Read state (protocol 10.4): moves the caller's read cursor up to `seq` (clamped to the
 * room's lastSeq, never back). When it moved, every member's 1.1 connections get
 * `read { roomId, userId, seq }`, the caller's own with their new `unreadCount`, after the
 * reply. A seq at or below the cursor is a no-op that answers the cursor as it is.
 */
export const markRead: Handler<'mark_read'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  const room = await ctx.storage.getRoom(data.roomId);
  if (!room) throw new ChatError('NOT_FOUND', 'no such room');
  if (!room.memberIds.includes(user.id)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  const { seq, moved } = await ctx.storage.markRead(room.id, user.id, data.seq, { beforeCommit: ctx.faults.beforeCommit });
  const unreadCount = await unreadOf(ctx, room, user.id, seq);
  const reply = { data: { roomId: room.id, seq, unreadCount } };
  if (!moved) return reply;
  return {
    ...reply,
    after: () => {
      const others = room.memberIds.filter((id) => id !== user.id);
      ctx.hub.broadcast(others, eventFrame('read', { roomId: room.id, userId: user.id, seq }), 1.1);
      ctx.hub.broadcast([user.id], eventFrame('read', { roomId: room.id, userId: user.id, seq, unreadCount }), 1.1);
    },
  };
};

/** Rooms as their member `userId` sees them: with every member's cursor and their own unread count. */
export async function withReadState(ctx: ServerContext, rooms: readonly Room[], userId: string): Promise<Room[]> {
  const states = await ctx.storage.getReadStates(userId, rooms.map((room) => room.id));
  return rooms.map((room) => {
    const state = states.get(room.id);
    if (!state) return room;
    const cursor = state.readSeqs[userId] ?? 0;
    return { ...room, readSeqs: state.readSeqs, unreadCount: Math.max(0, room.lastSeq - cursor - state.ownAfter) };
  });
}

/**
 * Messages after the cursor that others sent: every message after it but the member's own,
 * so the cost is one range count over the member's own messages after the cursor (an index).
 */
async function unreadOf(ctx: ServerContext, room: Room, userId: string, cursor: number): Promise<number> {
  return Math.max(0, room.lastSeq - cursor - await ctx.storage.countOwnAfter(room.id, userId, cursor));
}
