import { ChatError, CloseCode } from '@chat/sdk/protocol';
import type { Handler } from './types.js';
import { authOf } from './types.js';

/** Log in on this connection: email (development sign-in), session token, or JWT. */
export const createConnection: Handler<'create_connection'> = async (ctx, connection, data) => {
  if (connection.auth) throw new ChatError('BAD_REQUEST', 'this connection is already signed in');
  let auth;
  if (data.email !== undefined) {
    if (!ctx.options.emailLogin) throw new ChatError('FORBIDDEN', 'email sign-in is switched off on this server');
    const user = await ctx.storage.getUserByEmail(data.email);
    if (!user) throw new ChatError('NOT_FOUND', 'no user with this email');
    await ctx.limits.beforeBind(user.id); // with Redis: the user's connections on every process count
    connection.reserveUser(user.id); // before a session is written: too many connections write none
    auth = await ctx.sessions.open(user);
  } else {
    auth = await ctx.sessions.login(data.token!);
    await ctx.limits.beforeBind(auth.user.id);
  }
  connection.authenticate({ session: auth.session, user: auth.user, protocolVersion: data.protocolVersion });
  ctx.log.debug('signed in', { userId: auth.user.id, sessionId: auth.session.id });
  return { data: { user: auth.user, token: auth.token, protocolVersion: data.protocolVersion, serverTime: ctx.now() } };
};

/** Log out: revoke the token, reply, close this connection 1000 and the session's others 4001. */
export const deleteConnection: Handler<'delete_connection'> = async (ctx, connection) => {
  const { session } = authOf(connection);
  await ctx.sessions.revoke(session);
  return {
    data: {},
    after: () => {
      ctx.hub.closeSession(session.id, CloseCode.SESSION_REVOKED, 'session revoked', connection);
      connection.close(CloseCode.NORMAL, 'signed out');
    },
  };
};

export const ping: Handler<'ping'> = async (ctx) => ({ data: { serverTime: ctx.now() } });
