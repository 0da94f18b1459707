import type { Session } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

/** The signed-in user and token, or null when signed out (and on the server: it cannot know). */
export function useSession(): Session | null {
  return useStore(useChatClient().session, null);
}
