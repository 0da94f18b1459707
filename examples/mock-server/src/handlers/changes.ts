import { ChatError, DEFAULT_CHANGES_LIMIT, type Message, type ReplyData, type Room, eventFrame } from '@chat/sdk/protocol';
import type { Connection } from '../connection.js';
import type { ServerContext } from '../context.js';
import type { MessageChange } from '../storage/index.js';
import { isBlank, wellFormed } from '../text.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';

/**
 * Message changes (protocol 10.5). Each is applied once per (caller, clientChangeId): a
 * repeat answers the message as it is now with `duplicate: true`, charges nothing and tells
 * no one. Otherwise the checks run in the contract's order (room, membership, message,
 * sender, content), the change is charged as a message, and storage applies it in one
 * transaction that bumps the room's change counter. Every 1.1 connection of every member,
 * the requesting one included, then gets `message_updated` with the whole message.
 */

/** What every change names: the room, the message (by id, or by clientId and sender) and the change's key. */
type Ref = { roomId: string; messageId?: string | undefined; clientId?: string | undefined; senderId?: string | undefined; clientChangeId: string };

/** The sender edits the text; blank only when the message has an image; a tombstone: CONFLICT. */
export const editMessage: Handler<'edit_message'> = async (ctx, connection, data) =>
  change(ctx, connection, data, (message, userId) => {
    if (message.senderId !== userId) throw new ChatError('FORBIDDEN', 'only its sender may edit a message');
    if (message.deletedAt !== undefined) throw new ChatError('CONFLICT', 'this message was deleted; it cannot be edited');
    const text = wellFormed(data.text);
    if (!message.image && isBlank(text)) throw new ChatError('BAD_REQUEST', 'a message without an image needs a non-blank text');
    return { kind: 'edit', text, at: ctx.now() };
  });

/** The sender makes it a tombstone; deleting a tombstone succeeds and changes nothing. */
export const deleteMessage: Handler<'delete_message'> = async (ctx, connection, data) =>
  change(ctx, connection, data, (message, userId) => {
    if (message.senderId !== userId) throw new ChatError('FORBIDDEN', 'only its sender may delete a message');
    return { kind: 'delete', at: ctx.now() };
  });

/** Any member adds (`on`) or takes back their reaction; what is already so is a no-op. */
export const react: Handler<'react'> = async (ctx, connection, data) =>
  change(ctx, connection, data, (message) => {
    if (message.deletedAt !== undefined) throw new ChatError('CONFLICT', 'this message was deleted; it cannot take reactions');
    return { kind: 'react', emoji: data.emoji, on: data.on };
  });

/** Changed messages of a room after `afterRev`, each once as it is now, by rev ascending. */
export const getChanges: Handler<'get_changes'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  await requireMember(ctx, data.roomId, user.id);
  return { data: await ctx.storage.getChanges(data.roomId, data.afterRev, data.limit ?? DEFAULT_CHANGES_LIMIT) };
};

/** What a change does, once its checks passed (who may make it, what it may do to this message). */
type Plan = (message: Message, userId: string) => DistributiveOmit<MessageChange, 'messageId' | 'userId' | 'clientChangeId'>;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** The three replies are the same `{ message, duplicate }`. */
async function change(ctx: ServerContext, connection: Connection, data: Ref, plan: Plan): Promise<{ data: ReplyData<'edit_message'>; after?: () => void }> {
  const { user } = authOf(connection);
  const applied = await ctx.storage.findAppliedChange(user.id, data.clientChangeId);
  if (applied !== undefined) return { data: { message: (await ctx.storage.getMessage(applied))!, duplicate: true } };
  const room = await requireMember(ctx, data.roomId, user.id);
  const target = await findMessage(ctx, room, data, user.id);
  const what = plan(target, user.id);
  ctx.limits.message(user.id);
  const result = await ctx.storage.changeMessage(
    { ...what, messageId: target.id, userId: user.id, clientChangeId: data.clientChangeId } as MessageChange,
    { beforeCommit: ctx.faults.beforeCommit },
  );
  // The tombstone is committed: the bytes of the image it showed (no other message shows them)
  // go too. Should that fail, the change still stands and is still announced; the log says so.
  if (result.freedUploadId !== undefined) {
    try {
      await ctx.storage.deleteUpload(result.freedUploadId);
    } catch (error) {
      ctx.log.error('the upload of a deleted message could not be deleted', { error, uploadId: result.freedUploadId });
    }
  }
  const reply = { message: result.message, duplicate: result.duplicate };
  if (!result.changed) return { data: reply };
  const event = eventFrame('message_updated', { message: result.message });
  return { data: reply, after: () => ctx.hub.broadcast(room.memberIds, event, 1.1) };
}

/** By server id, or by its sender's clientId (the sender: the caller unless named); in this room, else NOT_FOUND. */
async function findMessage(ctx: ServerContext, room: Room, data: Ref, userId: string): Promise<Message> {
  const message = data.messageId !== undefined
    ? await ctx.storage.getMessage(data.messageId)
    : await ctx.storage.getMessageByClientId(data.senderId ?? userId, data.clientId!);
  if (!message || message.roomId !== room.id) throw new ChatError('NOT_FOUND', 'no such message in this room');
  return message;
}

async function requireMember(ctx: ServerContext, roomId: string, userId: string): Promise<Room> {
  const room = await ctx.storage.getRoom(roomId);
  if (!room) throw new ChatError('NOT_FOUND', 'no such room');
  if (!room.memberIds.includes(userId)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  return room;
}
