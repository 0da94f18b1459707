import { ChatError } from '@chat/sdk/protocol';
import type { Handler } from './types.js';
import { authOf } from './types.js';

/**
 * `typing { roomId, stop? }`, members only: the room's other connections (the typist's
 * own other connections too) hear `typing { roomId, userId, until }`; nothing is stored.
 * Rate-limited per address (all its users) and per user across their connections, on top
 * of the connection's own limit.
 */
export const typing: Handler<'typing'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  ctx.limits.typing(connection.ip);
  const waitMs = ctx.typing.take(user.id);
  if (waitMs > 0) throw new ChatError('RATE_LIMITED', 'too many typing frames', { retryAfterMs: waitMs });
  const memberIds = await ctx.storage.getMemberIds(data.roomId);
  if (!memberIds) throw new ChatError('NOT_FOUND', 'no such room');
  if (!memberIds.includes(user.id)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  if (data.stop) {
    const { after } = ctx.typing.stop(connection, user.id, data.roomId, memberIds);
    return after ? { data: { until: 0 }, after } : { data: { until: 0 } };
  }
  const { until, after } = ctx.typing.start(connection, user.id, data.roomId, memberIds);
  return after ? { data: { until }, after } : { data: { until } };
};
