import { type ChatErrorData, type Image, toChatError } from '../protocol/index.js';
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
}

export interface RoomMessagesSnapshot {
  /** Sent messages by seq, then pending and failed ones in the order they were sent. */
  readonly messages: readonly ChatMessage[];
  /** Older history exists on the server. */
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
    // Rows stored by 0.1 lack `retryable`: rebuilt through toChatError, every error has the one shape.
    ...(row.status === 'failed' && row.lastError ? { error: toChatError(row.lastError).toJSON() } : {}),
  };
}
