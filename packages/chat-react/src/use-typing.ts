import type { TypingState } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const NOBODY: TypingState = { userIds: [] };

/**
 * Who else is typing in a room now (`{ userIds }`, the signed-in user never included).
 * Entries end by themselves; re-renders only when this room's list changes. Tell the
 * others with `client.startTyping(roomId)` on each keystroke and `stopTyping` when done.
 */
export function useTyping(roomId: string): TypingState {
  const client = useChatClient();
  return useStore(
    useMemo(() => client.typing(roomId), [client, roomId]),
    NOBODY,
  );
}
