import { type Room, parseRequestData } from '../../protocol/index.js';
import type { ReadCommand } from '../../contract/read-state.js';
import type { Store } from '../../contract/store.js';

export type Receipts = Readonly<Record<string, number>>;
const NONE: Receipts = Object.freeze({});

const same = (a: Receipts, b: Receipts): boolean => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
};

/**
 * The client part of read state: `markRead` checked here and run by the host part, and
 * `receipts(roomId)`, each member's cursor, read off `client.rooms` (a room's `readSeqs`).
 */
export class ClientReads {
  private readonly stores = new Map<string, Store<Receipts>>();

  constructor(private readonly rooms: Store<Room[]>) {}

  /** The host command for `markRead`; bad input throws a ChatError, as the server would answer it. */
  command(roomId: string, seq?: number): ReadCommand {
    const parsed = parseRequestData('mark_read', { roomId, seq: seq ?? 0 });
    if (!parsed.ok) throw parsed.error;
    return seq === undefined ? { type: 'markRead', roomId } : { type: 'markRead', roomId, seq };
  }

  /** One store per room; its snapshot keeps its identity until a cursor in it moves. */
  receipts(roomId: string): Store<Receipts> {
    let store = this.stores.get(roomId);
    if (store) return store;
    let last = NONE;
    const getSnapshot = () => {
      const next = this.rooms.getSnapshot().find((room) => room.id === roomId)?.readSeqs ?? NONE;
      if (!same(next, last)) last = next;
      return last;
    };
    store = {
      getSnapshot,
      subscribe: (listener) => {
        let seen = getSnapshot();
        return this.rooms.subscribe(() => seen !== (seen = getSnapshot()) && listener());
      },
    };
    this.stores.set(roomId, store);
    return store;
  }
}
