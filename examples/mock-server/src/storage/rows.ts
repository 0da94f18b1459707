import type { Image, Message, Reactions, User } from '@chat/sdk/protocol';
import { quoteOf } from './changes.js';
import type { UploadRecord } from './types.js';

/**
 * The rows SQLite and PostgreSQL hand back (the same columns in both schemas) and what they
 * become, written once for both stores.
 */

export interface UserRow { id: string; email: string; name: string; created_at: number }
export interface SessionRow { id: string; token_hash: string; user_id: string; created_at: number; expires_at: number }
export interface RoomRow { id: string; name: string | null; created_by: string; created_at: number; last_seq: number; last_rev: number }
export interface MessageRow {
  id: string; room_id: string; seq: number; sender_id: string; client_id: string;
  text: string; image: string | null; created_at: number;
  rev: number; edited_at: number | null; deleted_at: number | null; reactions: string | null; reply_to: string | null; upload_id: string | null;
}
export interface ParentRow { id: string; sender_id: string; text: string; deleted_at: number | null }
export interface UploadRow {
  id: string; owner_id: string; url: string; mime: string; size: number;
  width: number | null; height: number | null; created_at: number;
}

export function toUser(row: UserRow): User {
  return { id: row.id, email: row.email, name: row.name, createdAt: row.created_at };
}

/** What a change may alter of a message (storage/changes.ts plans on it). */
export function stateOf(row: MessageRow) {
  return {
    text: row.text,
    image: row.image === null ? null : (JSON.parse(row.image) as Image),
    ...(row.edited_at !== null ? { editedAt: row.edited_at } : {}),
    ...(row.deleted_at !== null ? { deletedAt: row.deleted_at } : {}),
    ...(row.reactions !== null ? { reactions: JSON.parse(row.reactions) as Reactions } : {}),
  };
}

export function toMessage(row: MessageRow): Message {
  const { text, image, ...changed } = stateOf(row);
  return {
    id: row.id,
    roomId: row.room_id,
    senderId: row.sender_id,
    clientId: row.client_id,
    seq: row.seq,
    text,
    image,
    createdAt: row.created_at,
    ...(row.rev > 0 ? { rev: row.rev } : {}),
    ...changed,
  };
}

/** Rows to messages, each reply with the quote of its parent among `parents` (read in one statement by the caller). */
export function withQuotes(rows: readonly MessageRow[], parents: ReadonlyMap<string, ParentRow>): Message[] {
  return rows.map((row) => {
    const message = toMessage(row);
    const parent = row.reply_to === null ? undefined : parents.get(row.reply_to);
    if (parent) message.replyTo = quoteOf({ id: parent.id, senderId: parent.sender_id, text: parent.text, deletedAt: parent.deleted_at });
    return message;
  });
}

/** The parents `rows` answer, to read before `withQuotes`. */
export function parentIdsOf(rows: readonly MessageRow[]): string[] {
  return [...new Set(rows.flatMap((row) => (row.reply_to === null ? [] : [row.reply_to])))];
}

export function toUpload(row: UploadRow): UploadRecord {
  const upload: UploadRecord = { id: row.id, ownerId: row.owner_id, url: row.url, mime: row.mime, size: row.size, createdAt: row.created_at };
  if (row.width !== null) upload.width = row.width;
  if (row.height !== null) upload.height = row.height;
  return upload;
}
