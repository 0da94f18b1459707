import { type ChatErrorData, type Image, type ReplyQuote, toChatError } from '../protocol/index.js';
import type { ChatChange } from './message-changes.js';
import type { OutboxRow } from '../storage/types.js';

/** The message model every layer shares: what a room's store holds and a host reports. */


export type MessageStatus = 'pending' | 'sent' | 'failed';

/** Why a message failed: the SDK's one error shape (a ChatError's `toJSON()`). */
export type MessageError = Readonly<ChatErrorData>;

/**
 * A protocol Message plus local state. While pending, `id`, `seq` and `createdAt` are null.
 * A local image carries its Blob in `localImage` (`image` stays null until the server
 * acknowledges the message). Render lists keyed by `clientId`: it never changes.
 */
export interface ChatMessage {
  readonly id: string | null;
  readonly roomId: string;
  readonly senderId: string;
  readonly clientId: string;
  readonly seq: number | null;
  readonly text: string;
  readonly image: Image | null;
  readonly localImage?: Blob;
  readonly createdAt: number | null;
  readonly status: MessageStatus;
  readonly error?: MessageError;
  /** Client clock at send time; orders the messages that have no seq yet. */
  readonly localCreatedAt: number;
  /** While its image uploads: bytes sent of `total`, as the platform reports them. Gone once sent. */
  readonly upload?: { readonly loaded: number; readonly total: number };
  // Message changes (protocol 10.5). Pending changes already show in these fields.
  /** The room's change counter at the message's last change the server applied. */
  readonly rev?: number | undefined;
  /** When the text was last edited (server time; client time while the edit is pending). */
  readonly editedAt?: number | undefined;
  /** A tombstone: text '' and image null; seq and createdAt stay. */
  readonly deletedAt?: number | undefined;
  /** Reactions, each emoji once in the order they came, with the signed-in user's own marked. */
  readonly reactions?: readonly ChatReaction[];
  /** The message it answers, as quoted (kept up to date with the parent this store holds). */
  readonly replyTo?: ReplyQuote | undefined;
  /** Changes to it not yet acknowledged: `pending` ones already show above; `failed` ones do not (retry or discard them). */
  readonly changes?: readonly ChatChange[];
}

export interface ChatReaction {
  readonly emoji: string;
  /** Who reacted with it, oldest first. */
  readonly userIds: readonly string[];
  /** The signed-in user is among them. */
  readonly mine: boolean;
  /** The user's own reaction (or its removal) is not acknowledged yet. */
  readonly pending?: boolean;
}

export interface RoomMessagesSnapshot {
  /**
   * Sent messages by seq, then pending and failed ones in the order they were sent. At most
   * the newest 5,000 sent ones at first, more as `loadOlder` asks (`hasMore` says so).
   */
  readonly messages: readonly ChatMessage[];
  /** Older messages exist: held but not shown yet, or on the server. */
  readonly hasMore: boolean;
  readonly loading: boolean;
}

/** How a queued row looks in a room's message list. */
export function toChatMessage(row: OutboxRow): ChatMessage {
  return {
    id: null,
    roomId: row.roomId,
    senderId: row.userId,
    clientId: row.clientId,
    seq: null,
    text: row.text,
    image: row.uploadedImage,
    createdAt: null,
    status: row.status,
    localCreatedAt: row.createdAt,
    ...(row.image ? { localImage: row.image } : {}),
    ...(row.replyTo ? { replyTo: row.replyTo.quote } : {}),
    // Rows stored by 0.1 lack `retryable`: rebuilt through toChatError, every error has the one shape.
    ...(row.status === 'failed' && row.lastError ? { error: toChatError(row.lastError).toJSON() } : {}),
  };
}
