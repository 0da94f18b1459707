import type { Room } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const SERVER: Room[] = [];

/** The user's rooms, most recently active first. Live: new rooms and new messages reorder it. */
export function useRooms(): Room[] {
  return useStore(useChatClient().rooms, SERVER);
}
