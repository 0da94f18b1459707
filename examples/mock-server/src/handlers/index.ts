import type { ActionName, RequestData } from '@chat/sdk/protocol';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import { deleteMessage, editMessage, getChanges, react } from './changes.js';
import { createMessage, getMessages } from './messages.js';
import { getPresence } from './presence.js';
import { markRead } from './read.js';
import { addMembers, createRoom, getUserRooms, leaveRoom } from './rooms.js';
import { createConnection, deleteConnection, ping } from './session.js';
import { typing } from './typing.js';
import type { ActionResult, Handler } from './types.js';
import { createUser, getUsers } from './users.js';

const HANDLERS: { [A in ActionName]: Handler<A> } = {
  create_user: createUser,
  create_connection: createConnection,
  delete_connection: deleteConnection,
  get_users: getUsers,
  get_user_rooms: getUserRooms,
  create_room: createRoom,
  leave_room: leaveRoom,
  add_members: addMembers,
  create_message: createMessage,
  get_messages: getMessages,
  ping,
  mark_read: markRead,
  typing,
  get_presence: getPresence,
  edit_message: editMessage,
  delete_message: deleteMessage,
  react,
  get_changes: getChanges,
};

/** Runs one checked request. The caller has already applied the authentication rule. */
export function runAction<A extends ActionName>(ctx: ServerContext, connection: Connection, action: A, data: RequestData<A>): Promise<ActionResult<A>> {
  return (HANDLERS[action] as Handler<A>)(ctx, connection, data);
}
