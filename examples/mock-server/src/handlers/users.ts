import { ChatError, DEFAULT_USERS_LIMIT, MAX_USER_NAME_CHARS, type User } from '@chat/sdk/protocol';
import { newId } from '../sessions.js';
import type { ServerContext } from '../context.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';
import { wellFormed } from '../text.js';

/**
 * Sign up, unless the server has sign-up closed. The email arrives trimmed and lower-cased;
 * the name defaults to its local part. Each attempt counts against the address's sign-ups
 * before anything is looked up (so CONFLICT cannot be used to test emails in bulk either).
 */
export const createUser: Handler<'create_user'> = async (ctx, connection, data) => {
  if (ctx.options.signup === 'closed') throw new ChatError('FORBIDDEN', 'sign-up is closed on this server');
  ctx.limits.signup(connection.ip);
  if (await ctx.storage.getUserByEmail(data.email)) throw new ChatError('CONFLICT', 'a user with this email exists');
  const localPart = data.email.slice(0, data.email.lastIndexOf('@'));
  const user: User = {
    id: newId('u'),
    email: data.email,
    name: data.name !== undefined ? wellFormed(data.name) : ([...localPart].slice(0, MAX_USER_NAME_CHARS).join('') || data.email),
    createdAt: ctx.now(),
  };
  return { data: { user: await ctx.storage.createUser(user, { beforeCommit: ctx.faults.beforeCommit }) } };
};

/**
 * A user as `viewerId` may see them: every field, but another user's email is '' unless
 * the server shows emails. Everything that sends a User to someone else goes through here.
 */
export function asSeenBy(ctx: ServerContext, viewerId: string, user: User): User {
  return ctx.options.showEmails || user.id === viewerId ? user : { ...user, email: '' };
}

/**
 * The directory. With `ids`: those that exist. Otherwise a case-insensitive prefix match
 * on the name, or the whole email exactly (never an email prefix), ordered by email
 * (unique). The cursor is opaque to clients; it is the id of the last user of the page,
 * so it stays short whatever the email's length. Other users' emails are '' unless the
 * server shows emails (`showEmails`).
 */
export const getUsers: Handler<'get_users'> = async (ctx, connection, data) => {
  const { user: viewer } = authOf(connection);
  const shown = (users: User[]) => users.map((u) => asSeenBy(ctx, viewer.id, u));
  if (data.ids !== undefined) return { data: { users: shown(await ctx.storage.getUsersByIds(data.ids)), nextCursor: null } };
  const limit = data.limit ?? DEFAULT_USERS_LIMIT;
  const prefix = (data.query ?? '').trim().toLowerCase();
  let after: string | null = null;
  if (data.cursor !== undefined) {
    const last = await ctx.storage.getUser(data.cursor);
    if (!last) throw new ChatError('BAD_REQUEST', 'cursor: not a cursor this server returned');
    after = last.email;
  }
  const found = await ctx.storage.searchUsers(prefix, after, limit + 1);
  const users = found.slice(0, limit);
  const last = users[users.length - 1];
  return { data: { users: shown(users), nextCursor: found.length > limit && last ? last.id : null } };
};
