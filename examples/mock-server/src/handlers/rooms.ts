import { ChatError, DEFAULT_ROOMS_LIMIT, type Room, eventFrame, normalizeMemberIds } from '@chat/sdk/protocol';
import type { ServerContext } from '../context.js';
import { newId } from '../sessions.js';
import { withReadState } from './read.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';
import { wellFormed } from '../text.js';

/**
 * The caller's rooms, most recent activity first, one page at a time: at most `limit`
 * (default 100, also for version-1 clients, who send no limit and read the first page).
 * `nextCursor` is the activity mark below which the next page starts; null on the last page.
 */
export const getUserRooms: Handler<'get_user_rooms'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  const page = await ctx.storage.getUserRoomsPage(user.id, {
    limit: data.limit ?? DEFAULT_ROOMS_LIMIT,
    ...(data.cursor !== undefined ? { before: readCursor(data.cursor) } : {}),
  });
  const rooms = await withReadState(ctx, page.rooms, user.id);
  return { data: { rooms, nextCursor: page.next === null ? null : String(page.next) } };
};

/**
 * A room of the caller and 1 to 99 others (duplicates and the caller dropped first; each
 * must exist, none may have blocked the caller). Everyone's connections get `room_created`,
 * after the reply. With a `clientId` (1.1) a repeat returns the room the first one made.
 */
export const createRoom: Handler<'create_room'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  if (data.clientId !== undefined) {
    const made = await ctx.storage.findApplied(user.id, 'create_room', data.clientId);
    if (made !== undefined) return { data: { room: (await ctx.storage.getRoom(made))!, duplicate: true } };
  }
  const others = normalizeMemberIds(data.memberIds, user.id);
  if (others.length + 1 > ctx.options.limits.maxRoomMembers) {
    throw new ChatError('TOO_LARGE', `a room holds at most ${ctx.options.limits.maxRoomMembers} members on this server`);
  }
  await checkAddable(ctx, user.id, others);
  ctx.limits.room(user.id);
  const room = await ctx.storage.createRoom(
    {
      id: newId('r'),
      name: data.name == null ? null : wellFormed(data.name),
      memberIds: [user.id, ...others],
      createdBy: user.id,
      createdAt: ctx.now(),
      ...(data.clientId !== undefined ? { clientId: data.clientId } : {}),
    },
    { beforeCommit: ctx.faults.beforeCommit },
  );
  const reply = data.clientId !== undefined ? { room, duplicate: false } : { room };
  return { data: reply, after: () => ctx.hub.broadcast(room.memberIds, eventFrame('room_created', { room })) };
};

/**
 * The caller leaves: the room and its history stay for the others, the caller gets nothing
 * of it any more. With `block`, whoever added the caller to this room can no longer add
 * them to any room. Idempotent on (caller, clientId).
 */
export const leaveRoom: Handler<'leave_room'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  const applied = await ctx.storage.findApplied(user.id, 'leave_room', data.clientId);
  if (applied !== undefined) return { data: { roomId: applied, duplicate: true } };
  await requireMember(ctx, data.roomId, user.id);
  const room = await ctx.storage.leaveRoom(
    { roomId: data.roomId, userId: user.id, clientId: data.clientId, block: data.block ?? false },
    { beforeCommit: ctx.faults.beforeCommit },
  );
  const event = eventFrame('member_left', { roomId: room.id, userId: user.id });
  return { data: { roomId: room.id, duplicate: false }, after: () => ctx.hub.broadcast([...room.memberIds, user.id], event, 1.1) };
};

/**
 * Any member may add people (as in a Slack channel or a Matrix room at the default power
 * levels); members already in are skipped; 100 members at most; nobody who blocked the
 * caller. The newcomers get `room_created` (a version-1 client shows the room too); the
 * members already there get `members_added`. Idempotent on (caller, clientId).
 */
export const addMembers: Handler<'add_members'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  // A repeat answers about the room the key was first used on, whatever this one names.
  const applied = await ctx.storage.findApplied(user.id, 'add_members', data.clientId);
  if (applied !== undefined) return { data: { room: (await ctx.storage.getRoom(applied))!, addedIds: [], duplicate: true } };
  const before = await requireMember(ctx, data.roomId, user.id);
  const present = new Set(before.memberIds);
  const added = [...new Set(data.userIds)].filter((id) => !present.has(id));
  if (present.size + added.length > ctx.options.limits.maxRoomMembers) {
    throw new ChatError('TOO_LARGE', `a room holds at most ${ctx.options.limits.maxRoomMembers} members on this server`);
  }
  await checkAddable(ctx, user.id, added);
  const room = await ctx.storage.addMembers(
    { roomId: before.id, userIds: added, addedBy: user.id, clientId: data.clientId },
    { beforeCommit: ctx.faults.beforeCommit },
  );
  const after = () => {
    if (added.length === 0) return;
    ctx.hub.broadcast(added, eventFrame('room_created', { room }));
    ctx.hub.broadcast(before.memberIds, eventFrame('members_added', { room, userIds: added, addedBy: user.id }), 1.1);
  };
  return { data: { room, addedIds: added, duplicate: false }, after };
};

async function requireMember(ctx: ServerContext, roomId: string, userId: string): Promise<Room> {
  const room = await ctx.storage.getRoom(roomId);
  if (!room) throw new ChatError('NOT_FOUND', 'no such room');
  if (!room.memberIds.includes(userId)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  return room;
}

/** Everyone named exists and none has blocked the one adding them. */
async function checkAddable(ctx: ServerContext, adderId: string, userIds: readonly string[]): Promise<void> {
  if (userIds.length === 0) return;
  const known = new Set((await ctx.storage.getUsersByIds(userIds)).map((u) => u.id));
  const missing = userIds.filter((id) => !known.has(id));
  if (missing.length > 0) throw new ChatError('NOT_FOUND', `no such user: ${missing.slice(0, 3).join(', ')}`);
  const blocked = await ctx.storage.blockedBy(userIds, adderId);
  if (blocked.length > 0) throw new ChatError('FORBIDDEN', `these users left a room you added them to and do not accept more: ${blocked.slice(0, 3).join(', ')}`);
}

/** Cursors are activity marks this server handed out: a positive integer as a string. */
function readCursor(cursor: string): number {
  if (!/^[1-9][0-9]{0,15}$/.test(cursor)) throw new ChatError('BAD_REQUEST', 'cursor is not one this server gave');
  return Number(cursor);
}
