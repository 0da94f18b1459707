import type { Session } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const userIdOf = (session: Session | null): string | null => session?.user.id ?? null;

/** The signed-in user's id, or null. A refreshed token alone does not re-render. */
export function useUserId(): string | null {
  return useStore(useChatClient().session, null, userIdOf);
}
