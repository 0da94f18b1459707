import type { ChatMessage, SendInput } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStableCallback } from './use-latest.js';

/**
 * A stable `send(input)` for a room. It returns the pending message at once (already in
 * the room's list, keyed by `clientId`); the SDK empties the room's draft. Bad input
 * (empty text, an image too large or not an image) throws a ChatError and sends nothing.
 */
export function useSendMessage(roomId: string): (input: SendInput) => ChatMessage {
  const client = useChatClient();
  return useStableCallback((input: SendInput) => client.send(roomId, input));
}
