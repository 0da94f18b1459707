import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const SERVER: Readonly<Record<string, number>> = {};

/**
 * "Seen by": each member's read cursor in the room (user id -> the highest seq they read),
 * from `client.receipts(roomId)`. Re-renders only when a cursor in this room moves.
 */
export function useReceipts(roomId: string): Readonly<Record<string, number>> {
  const client = useChatClient();
  const store = useMemo(() => client.receipts(roomId), [client, roomId]);
  return useStore(store, SERVER);
}
