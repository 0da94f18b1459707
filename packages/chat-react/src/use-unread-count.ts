import type { Room } from '@chat/sdk';
import { useCallback } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const SERVER: Room[] = [];

/**
 * How many messages others sent in the room after the user's read cursor (0 for a room not
 * in the list). Re-renders only when this number changes; `client.markRead` brings it to 0.
 */
export function useUnreadCount(roomId: string): number {
  const select = useCallback((rooms: Room[]) => rooms.find((room) => room.id === roomId)?.unreadCount ?? 0, [roomId]);
  return useStore(useChatClient().rooms, SERVER, select);
}
