/**
 * Opening a room offline from the IndexedDB cache, the same code in Node (fake-indexeddb,
 * bench/store.ts) and in Chromium (its own IndexedDB, bench/store-page.ts): nothing here may
 * import from Node.
 */
import type { Message } from '@chat/sdk/protocol';
import { RoomHistory } from '../packages/chat-sdk/src/client/room-history.js';
import { RoomMessages } from '../packages/chat-sdk/src/client/room-messages.js';
import { IdbStorage } from '../packages/chat-sdk/src/storage/idb-storage.js';

export const ROOM = 'room-bench';
const USER = 'u-bench';

export function messagesOf(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `m${i + 1}`,
    roomId: ROOM,
    senderId: `u${i % 10}`,
    clientId: `c${i + 1}`,
    seq: i + 1,
    text: `message number ${i + 1} with a little text in it`,
    image: null,
    createdAt: 1_700_000_000_000 + i * 1000,
  }));
}

export interface OpenTimes {
  /** The room's size: every one of its messages went through the cache. */
  messages: number;
  /** What the open showed: the cache keeps a room's newest CACHE_MESSAGES_PER_ROOM. */
  shown: number;
  /** Cache reads (each one IndexedDB `get` of the room's record) per open. */
  records: number;
  /** From `open` to a snapshot holding the newest message (the network never answers), in ms. */
  opens: number[];
  /** Baseline, same run and database: the room's cache record read with plain IndexedDB calls, in ms. */
  gets: number[];
}

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/**
 * A room of `count` messages, every one cached as the host caches what it delivers (pages of
 * 100), then `RoomHistory.open` into a new `RoomMessages` until the snapshot shows the newest
 * message, `runs` times, each followed by the baseline's raw read.
 */
export async function openCachedRoom(count: number, indexedDB: IDBFactory, runs = 25): Promise<OpenTimes> {
  const name = `bench-open-${count}`;
  await request(indexedDB.deleteDatabase(name));
  const storage = await IdbStorage.open({ indexedDB, name });
  const messages = messagesOf(count);
  for (let i = 0; i < count; i += 100) await storage.cache.putMessages(USER, ROOM, messages.slice(i, i + 100));
  let reads = 0;
  const history = new RoomHistory({
    fetch: () => new Promise(() => {}), // offline: only the cache answers
    cached: (roomId) => {
      reads++;
      return storage.cache.getMessages(USER, roomId);
    },
    isOpen: () => false,
    report: (error) => {
      throw error;
    },
  });
  const raw = await request(indexedDB.open(name));
  const out: OpenTimes = { messages: count, shown: 0, records: 0, opens: [], gets: [] };
  try {
    // Alternated, so the machine's load moves both alike.
    for (let i = 0; i < runs; i++) {
      const store = new RoomMessages(ROOM);
      let t = performance.now();
      await history.open(store, Promise.resolve());
      const shown = store.getSnapshot().messages;
      out.opens.push(performance.now() - t);
      if (shown.at(-1)?.seq !== count || new Set(shown.map((m) => m.seq)).size !== shown.length) throw new Error('the open did not show the newest page once');
      out.shown = shown.length;
      t = performance.now();
      await request(raw.transaction('messages').objectStore('messages').get([USER, ROOM]));
      out.gets.push(performance.now() - t);
    }
  } finally {
    raw.close();
    storage.close();
  }
  out.records = reads / runs;
  return out;
}
