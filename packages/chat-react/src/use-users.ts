import type { ChatError, Store, UsersInput, UsersState } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';
import { useUserId } from './use-user-id.js';

export type { UsersInput, UsersState };

const IDLE: UsersState = { users: [], nextCursor: null, loading: false, error: null };
const SERVER: UsersState = { ...IDLE, loading: true };
const constant = (value: UsersState): Store<UsersState> => ({ getSnapshot: () => value, subscribe: () => () => {} });
const idleStore = constant(IDLE);

/**
 * The user directory: `{ query, limit, cursor }` searches by name prefix or whole email (paged),
 * `{ ids }` names senders. Pass null to ask nothing (an empty search box). The input is
 * compared by value, so an inline object is fine. A subscription to `client.directory`:
 * answers are shared by everyone asking the same thing, and kept 30 s after the last one
 * unmounts. Bad input shows as `error` (BAD_REQUEST) rather than throwing during render.
 */
export function useUsers(input: UsersInput | null): UsersState {
  const client = useChatClient();
  const userId = useUserId();
  const key = input ? JSON.stringify(input) : null;
  const store = useMemo(() => {
    if (key === null || !userId) return idleStore;
    try {
      return client.directory(JSON.parse(key) as UsersInput);
    } catch (error) {
      // directory() throws only ChatErrors (BAD_REQUEST): shown as the state, as a request error is.
      return constant({ ...IDLE, error: error as ChatError });
    }
  }, [client, userId, key]);
  return useStore(store, SERVER);
}
