import type { Room } from '../../protocol/index.js';
import type { Store } from '../../contract/store.js';

/** Each member's read cursor in a room: user id -> the highest seq they have read. */
export type Receipts = Readonly<Record<string, number>>;

/**
 * The client part of read state: `client.receipts(roomId)`, read off `client.rooms` (the
 * room's `readSeqs`; the host part keeps them there). The snapshot keeps its identity until
 * a cursor in it moves, whatever the link cloned. (`markRead` is checked in the client.)
 */
export function receiptsOf(rooms: Store<Room[]>, roomId: string): Store<Receipts> {
  let last: Receipts = {};
  return {
    getSnapshot: () => {
      const next = rooms.getSnapshot().find((room) => room.id === roomId)?.readSeqs ?? {};
      return JSON.stringify(next) === JSON.stringify(last) ? last : (last = next);
    },
    subscribe: (listener) => rooms.subscribe(listener),
  };
}
