import { useMemo } from 'react';
import type { ChatChange } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';

export interface MessageActions {
  /** Sends a failed message, or a failed change (by its `clientChangeId`), again. */
  retry(clientId: string): Promise<void>;
  /** Forgets a failed message or change for good. */
  discard(clientId: string): Promise<void>;
  /** Edits one of the user's messages (by `clientId` or `id`): shown at once, sent through the outbox. */
  edit(roomId: string, key: string, input: { text: string }): ChatChange;
  /** Deletes one of the user's messages (a tombstone stays). */
  delete(roomId: string, key: string): ChatChange;
  /** Adds the user's reaction. */
  react(roomId: string, key: string, emoji: string): ChatChange;
  /** Takes the user's reaction back. */
  unreact(roomId: string, key: string, emoji: string): ChatChange;
}

/** The levers for messages: failed ones, and changes (edit, delete, reactions). Stable for the client's lifetime. */
export function useMessageActions(): MessageActions {
  const client = useChatClient();
  return useMemo(
    () => ({
      retry: (clientId: string) => client.retry(clientId),
      discard: (clientId: string) => client.discard(clientId),
      edit: (roomId: string, key: string, input: { text: string }) => client.edit(roomId, key, input),
      delete: (roomId: string, key: string) => client.delete(roomId, key),
      react: (roomId: string, key: string, emoji: string) => client.react(roomId, key, emoji),
      unreact: (roomId: string, key: string, emoji: string) => client.unreact(roomId, key, emoji),
    }),
    [client],
  );
}
