import type { SessionStatus } from '@chat/sdk';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

/**
 * `'resuming'` from the client's creation until a stored session is restored
 * (`'signed-in'`) or found absent or refused (`'signed-out'`). Show a spinner while
 * resuming and a sign-in form only when signed out, so a reload never flashes the form.
 * On the server (and during hydration) it is `'resuming'`: nothing is known there yet.
 */
export function useSessionStatus(): SessionStatus {
  return useStore(useChatClient().sessionStatus, 'resuming');
}
