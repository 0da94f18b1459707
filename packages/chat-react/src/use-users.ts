import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';
import { useUserId } from './use-user-id.js';
import { IDLE, type UsersInput, type UsersState, usersQuery } from './users-query.js';

export type { UsersInput, UsersState };

const SERVER: UsersState = { ...IDLE, loading: true };
const idleStore = { getSnapshot: () => IDLE, subscribe: () => () => {} };

/**
 * The user directory: `{ query, limit, cursor }` searches by name or email prefix (paged),
 * `{ ids }` names senders. Pass null to ask nothing (an empty search box). The input is
 * compared by value, so an inline object is fine. Answers are shared by the components
 * asking the same thing, and kept 30 s after the last one unmounts.
 */
export function useUsers(input: UsersInput | null): UsersState {
  const client = useChatClient();
  const userId = useUserId();
  const key = input ? JSON.stringify(input) : null;
  const store = useMemo(() => (key !== null && userId ? usersQuery(client, userId, key) : idleStore), [client, userId, key]);
  return useStore(store, SERVER);
}
