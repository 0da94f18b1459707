import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';

export interface MessageActions {
  /** Sends a failed message again (it turns pending, then sent or failed). */
  retry(clientId: string): Promise<void>;
  /** Forgets a failed message for good. */
  discard(clientId: string): Promise<void>;
}

/** The levers for failed messages, stable for the client's lifetime. */
export function useMessageActions(): MessageActions {
  const client = useChatClient();
  return useMemo(
    () => ({
      retry: (clientId: string) => client.retry(clientId),
      discard: (clientId: string) => client.discard(clientId),
    }),
    [client],
  );
}
