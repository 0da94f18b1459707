import { useMemo } from 'react';
import { type DraftPatch, type DraftValue, draftEntry } from './draft-entry.js';
import { useChatClient } from './use-chat-client.js';
import { useStableCallback } from './use-latest.js';
import { useUserId } from './use-user-id.js';
import { useStore } from './use-store.js';

export type { DraftPatch, DraftValue };

const SERVER: DraftValue = { text: '', image: null, loaded: false };
const noStore = { getSnapshot: () => SERVER, subscribe: () => () => {} };

export interface UseDraftOptions {
  /** Quiet time before the draft is written to storage. Default 300 ms. */
  debounceMs?: number;
}

/**
 * A room's draft (text and image) and its setter. The setter merges (`{ text }` keeps the
 * image), shows the change at once and stores it on a debounce; it is stable. The stored
 * draft is read when the room opens (`loaded` turns true); sending with `useSendMessage`
 * empties it. Signed out, the draft stays empty and the setter does nothing.
 */
export function useDraft(roomId: string, options: UseDraftOptions = {}): [draft: DraftValue, setDraft: (patch: DraftPatch) => void] {
  const client = useChatClient();
  const userId = useUserId();
  const entry = useMemo(() => (userId ? draftEntry(client, userId, roomId) : null), [client, userId, roomId]);
  const draft = useStore(entry ?? noStore, SERVER);
  const debounceMs = options.debounceMs ?? 300;
  const setDraft = useStableCallback((patch: DraftPatch) => entry?.edit(patch, debounceMs));
  return [draft, setDraft];
}
