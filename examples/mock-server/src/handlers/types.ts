import type { ActionName, ReplyData, RequestData } from '@chat/sdk/protocol';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';

/** A handler's answer: the reply's data, and what to do once the reply is on the wire (events). */
export interface ActionResult<A extends ActionName> {
  data: ReplyData<A>;
  after?: () => void;
}

/** One handler per action; a ChatError thrown becomes the reply's error. */
export type Handler<A extends ActionName> = (ctx: ServerContext, connection: Connection, data: RequestData<A>) => Promise<ActionResult<A>>;

/** The signed-in user and session; handlers for authenticated actions only run when there is one. */
export function authOf(connection: Connection) {
  const auth = connection.auth;
  if (!auth) throw new Error('handler for an authenticated action ran on an unauthenticated connection');
  return auth;
}
