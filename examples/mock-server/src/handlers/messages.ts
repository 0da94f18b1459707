import { ChatError, DEFAULT_MESSAGES_LIMIT, eventFrame } from '@chat/sdk/protocol';
import type { ServerContext } from '../context.js';
import { newMessageId } from '../message-ids.js';
import { type UploadRecord, imageOf } from '../storage/index.js';
import { isBlank, wellFormed } from '../text.js';
import type { Handler } from './types.js';
import { authOf } from './types.js';

/**
 * Idempotent on (sender, clientId) across the whole server and for ever: a repeat gets the
 * stored message with `duplicate: true`, whatever its content, and no event.
 */
export const createMessage: Handler<'create_message'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  const stored = await ctx.storage.getMessageByClientId(user.id, data.clientId);
  if (stored) return { data: { message: stored, duplicate: true } };
  // The members alone (cached by the SQLite store), not the whole room with its last message.
  const memberIds = await ctx.storage.getMemberIds(data.roomId);
  if (!memberIds) throw new ChatError('NOT_FOUND', 'no such room');
  if (!memberIds.includes(user.id)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  const roomId = data.roomId;
  if (data.replyTo !== undefined) {
    const parent = await ctx.storage.getMessage(data.replyTo);
    if (!parent || parent.roomId !== roomId) throw new ChatError('NOT_FOUND', 'replyTo names no message of this room');
  }
  const text = wellFormed(data.text ?? '');
  if (!data.image && isBlank(text)) throw new ChatError('BAD_REQUEST', 'a message needs a non-blank text or an image');
  ctx.limits.message(user.id);
  const upload = data.image ? await resolveUpload(ctx, data.image.url) : null;
  const image = upload && imageOf(upload);
  if (upload) await ctx.storage.markUploadUsed(upload.id);
  const createdAt = ctx.now();
  const { message, duplicate } = await ctx.storage.createMessage(
    {
      id: newMessageId(createdAt), roomId, senderId: user.id, clientId: data.clientId, text, image, createdAt,
      ...(data.replyTo !== undefined ? { replyTo: data.replyTo } : {}),
    },
    { beforeCommit: ctx.faults.beforeCommit },
  );
  if (duplicate) return { data: { message, duplicate } };
  ctx.typing.messageCreated(user.id, roomId); // message_created ends the typing for every client
  return { data: { message, duplicate }, after: () => ctx.hub.broadcast(memberIds, eventFrame('message_created', { message })) };
};

/** History and catch-up: newest page, or the page just below `before` / just above `after`. */
export const getMessages: Handler<'get_messages'> = async (ctx, connection, data) => {
  const { user } = authOf(connection);
  const memberIds = await ctx.storage.getMemberIds(data.roomId);
  if (!memberIds) throw new ChatError('NOT_FOUND', 'no such room');
  if (!memberIds.includes(user.id)) throw new ChatError('FORBIDDEN', 'not a member of this room');
  const page = { limit: data.limit ?? DEFAULT_MESSAGES_LIMIT, ...pick(data) };
  return { data: await ctx.storage.getMessages(data.roomId, page) };
};

function pick(data: { before?: number | undefined; after?: number | undefined }): { before?: number; after?: number } {
  if (data.before !== undefined) return { before: data.before };
  if (data.after !== undefined) return { after: data.after };
  return {};
}

/** The last path segments `/uploads/<id>` name one of this server's uploads, whatever the host. */
const UPLOAD_PATH = /\/uploads\/([A-Za-z0-9_-]{1,64})$/;

/** An image a message may carry: one of this server's uploads (its record, read without its bytes). */
async function resolveUpload(ctx: ServerContext, url: string): Promise<UploadRecord> {
  let path: string;
  try {
    path = new URL(url, 'http://upload.invalid').pathname;
  } catch {
    throw new ChatError('BAD_REQUEST', 'image.url is not a URL');
  }
  const id = UPLOAD_PATH.exec(path)?.[1];
  if (!id) throw new ChatError('BAD_REQUEST', 'image.url is not an upload of this server (POST /uploads first)');
  const upload = await ctx.storage.getUpload(id);
  if (!upload) throw new ChatError('NOT_FOUND', 'no such upload');
  return upload;
}
