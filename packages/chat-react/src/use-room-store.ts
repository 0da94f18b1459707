import type { RoomMessagesSnapshot, Store } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useUserId } from './use-user-id.js';

/**
 * The SDK store of a room's messages. The client drops its room stores when the user
 * changes, so it is looked up again then. `client.messages` is idempotent: a repeated
 * render (StrictMode, concurrent rendering) opens nothing twice.
 */
export function useRoomStore(roomId: string): Store<RoomMessagesSnapshot> {
  const client = useChatClient();
  const userId = useUserId();
  // eslint-disable-next-line react-hooks/exhaustive-deps
  return useMemo(() => client.messages(roomId), [client, roomId, userId]);
}
