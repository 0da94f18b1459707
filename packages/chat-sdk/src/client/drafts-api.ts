import type { Session } from '../link/types.js';
import type { ChatStorage } from '../storage/types.js';
import type { DraftsApi } from './chat-client.js';

// TEMPORARY: replaced by DraftSync wiring.
export function createDraftsApi(options: {
  storage: Promise<ChatStorage>;
  session: () => Session | null;
  BroadcastChannel?: typeof BroadcastChannel;
  debounceMs?: number;
}): DraftsApi & { flush(): Promise<void>; close(): void } {
  const user = () => options.session()?.user.id;
  return {
    async get(roomId) {
      const id = user();
      if (!id) return undefined;
      const row = await (await options.storage).drafts.get(id, roomId);
      return row ? { text: row.text, image: row.image } : undefined;
    },
    set(roomId, draft) {
      const id = user();
      if (!id) return;
      void options.storage.then((s) => s.drafts.put({ key: `${id}_${roomId}`, userId: id, roomId, text: draft.text, image: draft.image ?? null, updatedAt: Date.now() }));
    },
    async clear(roomId) {
      const id = user();
      if (!id) return;
      await (await options.storage).drafts.delete(id, roomId);
    },
    flush: async () => {},
    close() {},
  };
}
