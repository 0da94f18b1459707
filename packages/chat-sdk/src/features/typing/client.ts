import type { HostEventHandlers } from '../../contract/host-api.js';
import { ValueStore } from '../../contract/store.js';
import type { TypingState } from '../../contract/typing.js';

const NOBODY: TypingState = { userIds: [] };

/**
 * The client part of typing, kept tiny: the host throttles, expires, leaves the user out
 * and tells each room's list when it changes (an empty one when another user signs in);
 * this holds one store per room.
 */
export class ClientTyping {
  private readonly stores = new Map<string, ValueStore<TypingState>>();
  readonly hostEvents: Pick<HostEventHandlers, 'typing'> = {
    // The host tells a room's list only when it changed.
    typing: ({ roomId, userIds }) => this.store(roomId).set({ userIds }),
  };

  store(roomId: string): ValueStore<TypingState> {
    let store = this.stores.get(roomId);
    if (!store) this.stores.set(roomId, (store = new ValueStore(NOBODY)));
    return store;
  }
}
