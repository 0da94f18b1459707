import type { Handler } from './types.js';
import { authOf } from './types.js';

/**
 * `get_presence { userIds }`: the current state of the caller and of the people who share
 * a room with the caller; anyone else is left out of the answer (never FORBIDDEN, so the
 * answer does not tell whether a stranger's id exists).
 */
export const getPresence: Handler<'get_presence'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  return { data: { presence: await ctx.presence.get(user.id, data.userIds) } };
};
