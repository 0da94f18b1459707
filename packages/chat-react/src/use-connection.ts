import type { ConnectionState } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const SERVER: ConnectionState = { status: 'idle', attempt: 0 };

/** The socket's state: `idle`, `connecting`, `open`, `reconnecting` (with `attempt`, `nextRetryAt`) or `closed`. */
export function useConnection(): ConnectionState {
  return useStore(useChatClient().connection, SERVER);
}
