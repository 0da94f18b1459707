import type { PresenceMap } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStore } from './use-store.js';

const NOTHING: PresenceMap = {};

/**
 * The presence of some users: `{ [userId]: { online, lastSeenAt } }` for those the server
 * tells this user of (people who share a room with them). The ids are compared by value,
 * so an inline array is fine; re-renders only when one of these users' presence changes.
 */
export function usePresence(userIds: readonly string[]): PresenceMap {
  const client = useChatClient();
  const key = [...new Set(userIds)].sort().join(' ');
  return useStore(
    useMemo(() => client.presence(key ? key.split(' ') : []), [client, key]),
    NOTHING,
  );
}
