import type { OutboxRow } from '../storage/types.js';
import type { ChatMessage } from './room-messages.js';

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
    ...(row.status === 'failed' && row.lastError ? { error: row.lastError } : {}),
  };
}
