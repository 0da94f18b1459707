import type { RoomMessagesSnapshot } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStableCallback } from './use-latest.js';
import { useRoomStore } from './use-room-store.js';
import { useStore } from './use-store.js';

/** On the server nothing is loaded yet: show a loading state, not an empty room. */
const SERVER: RoomMessagesSnapshot = { messages: [], hasMore: false, loading: true };

export interface UseMessagesResult extends RoomMessagesSnapshot {
  /** Loads the page of history above the oldest message shown. Stable identity. */
  loadOlder(): Promise<void>;
}

/**
 * A room's live messages: sent ones by `seq`, then the user's pending and failed ones.
 * Key list items by `clientId` (it never changes, not even when a message turns sent).
 * Re-renders only when this room's messages (or `hasMore`, `loading`) change.
 */
export function useMessages(roomId: string): UseMessagesResult {
  const client = useChatClient();
  const snapshot = useStore(useRoomStore(roomId), SERVER);
  const loadOlder = useStableCallback(() => client.loadOlder(roomId));
  return useMemo(() => ({ ...snapshot, loadOlder }), [snapshot, loadOlder]);
}
