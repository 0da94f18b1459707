import type { Session } from '../contract/host-api.js';
import type { ChatStorage } from '../storage/types.js';
import { type Draft, type DraftState, DraftSync, type DraftSyncOptions } from './drafts.js';
import { type Store, ValueStore } from '../contract/store.js';

/** `client.drafts`: one draft (text and image) per room for the signed-in user. */
export interface DraftsApi {
  /** The room's draft, or null. */
  get(roomId: string): Promise<Draft | null>;
  /** Shows at once in `store(roomId)`; written to IndexedDB after a short debounce. */
  set(roomId: string, draft: { text: string; image?: Blob | null }): void;
  clear(roomId: string): Promise<void>;
  /** The room's draft, live (other tabs' edits included). */
  store(roomId: string): Store<DraftState>;
}

const signedOut: Store<DraftState> = new ValueStore<DraftState>({ loaded: true, draft: null });

/** Binds DraftSync to whoever is signed in: drafts are keyed `${userId}_${roomId}`. */
export function createDraftsApi(
  storage: PromiseLike<ChatStorage>,
  session: () => Session | null,
  options: DraftSyncOptions,
): DraftsApi & { flush(): Promise<void>; close(): Promise<void> } {
  const sync = new DraftSync(storage, options);
  const userId = () => session()?.user.id;
  return {
    get: async (roomId) => {
      const user = userId();
      return user ? sync.get(user, roomId) : null;
    },
    set: (roomId, draft) => {
      const user = userId();
      if (user) sync.set(user, roomId, draft);
    },
    clear: async (roomId) => {
      const user = userId();
      if (user) await sync.clear(user, roomId);
    },
    store: (roomId) => {
      const user = userId();
      return user ? sync.store(user, roomId) : signedOut;
    },
    flush: () => sync.flush(),
    close: () => sync.close(),
  };
}
