import type { DraftState } from '@chat/sdk';
import { useMemo } from 'react';
import { useChatClient } from './use-chat-client.js';
import { useStableCallback } from './use-latest.js';
import { useStore } from './use-store.js';
import { useUserId } from './use-user-id.js';

/** What a composer shows. Until `loaded`, the stored draft is still being read. */
export interface DraftValue {
  readonly text: string;
  readonly image: Blob | null;
  readonly loaded: boolean;
}

export type DraftPatch = { text?: string; image?: Blob | null };

const SERVER: DraftState = { loaded: false, draft: null };

const toValue = (state: DraftState): DraftValue => ({
  text: state.draft?.text ?? '',
  image: state.draft?.image ?? null,
  loaded: state.loaded,
});

const sameValue = (a: DraftValue, b: DraftValue) => a.text === b.text && a.image === b.image && a.loaded === b.loaded;

/**
 * A room's draft (text and image) and its stable setter, over `client.drafts.store(roomId)`.
 * The setter merges (`{ text }` keeps the image) and shows the change at once in every
 * component of the room (and other tabs); the SDK writes it to IndexedDB after its
 * `draftDebounceMs` and on `pagehide`. Sending empties it. Signed out, it stays empty.
 */
export function useDraft(roomId: string): [draft: DraftValue, setDraft: (patch: DraftPatch) => void] {
  const client = useChatClient();
  const userId = useUserId();
  // The drafts store belongs to the signed-in user: look it up again when that changes.
  const store = useMemo(() => client.drafts.store(roomId), [client, userId, roomId]);
  const draft = useStore(store, SERVER, toValue, sameValue);
  const setDraft = useStableCallback((patch: DraftPatch) => {
    const current = toValue(store.getSnapshot());
    client.drafts.set(roomId, {
      text: patch.text ?? current.text,
      image: patch.image !== undefined ? patch.image : current.image,
    });
  });
  return [draft, setDraft];
}
