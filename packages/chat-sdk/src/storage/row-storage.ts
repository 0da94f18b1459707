import type { MessagesRow, RoomRevRow, RoomsRow, StoreName } from './schema.js';
import {
  draftKey,
  type CacheTable,
  type ChangeRow,
  type ChangeTable,
  type ChatStorage,
  type DraftRow,
  type DraftTable,
  type OutboxRow,
  type OutboxTable,
  type ReadRow,
  type ReadTable,
  type SessionRow,
  type SessionTable,
} from './types.js';
import { mergeCachedMessages, newest, updateCachedMessages } from './row-merges.js';

export type RowKey = string | string[];

/** What the tables do inside one transaction of IndexedDB or memory. */
export interface RowTx {
  get<R>(store: StoreName, key: RowKey): Promise<R | undefined>;
  put(store: StoreName, row: object): void;
  delete(store: StoreName, key: RowKey): void;
  /** The rows whose `userId` (index byUser) or `scope` (index byScope) is `value`. */
  all<R>(store: StoreName, index: 'byUser' | 'byScope', value: string): Promise<R[]>;
  /** Their keys. */
  keys(store: StoreName, index: 'byUser', value: string): Promise<RowKey[]>;
}

const byOrder = <T extends { order: number }>(rows: T[]): T[] => rows.sort((a, b) => a.order - b.order);

/**
 * ChatStorage's tables, written once over a transaction of IndexedDB (idb-storage.ts) or of
 * memory (memory-storage.ts), so both keep the same semantics by construction.
 */
export abstract class RowStorage implements ChatStorage {
  abstract readonly kind: 'indexeddb' | 'memory';
  abstract close(): void;
  /** Runs `fn` in one transaction over `stores`; a write resolves once it is stored. */
  protected abstract tx<R>(stores: StoreName[], write: boolean, fn: (tx: RowTx) => Promise<R>): Promise<R>;

  private get<R>(store: StoreName, key: RowKey): Promise<R | undefined> {
    return this.tx([store], false, (tx) => tx.get<R>(store, key));
  }

  private put(store: StoreName, row: object): Promise<void> {
    return this.tx([store], true, async (tx) => tx.put(store, row));
  }

  private delete(store: StoreName, key: RowKey): Promise<void> {
    return this.tx([store], true, async (tx) => tx.delete(store, key));
  }

  private all<R>(store: StoreName, value: string, index: 'byUser' | 'byScope' = 'byUser'): Promise<R[]> {
    return this.tx([store], false, (tx) => tx.all<R>(store, index, value));
  }

  /** Deletes every row of the user in these stores. */
  private static async deleteAll(tx: RowTx, stores: StoreName[], userId: string): Promise<void> {
    await Promise.all(stores.map(async (store) => (await tx.keys(store, 'byUser', userId)).forEach((key) => tx.delete(store, key))));
  }

  readonly outbox: OutboxTable = {
    put: (row) => this.put('outgoingMessages', row),
    get: (clientId) => this.get('outgoingMessages', clientId),
    delete: (clientId) => this.delete('outgoingMessages', clientId),
    listByUser: async (userId) => byOrder(await this.all<OutboxRow>('outgoingMessages', userId)),
  };

  readonly drafts: DraftTable = {
    get: (userId, roomId) => this.get<DraftRow>('draftMessages', draftKey(userId, roomId)),
    put: (row) => this.put('draftMessages', row),
    delete: (userId, roomId) => this.delete('draftMessages', draftKey(userId, roomId)),
    deleteByUser: (userId) => this.tx(['draftMessages'], true, (tx) => RowStorage.deleteAll(tx, ['draftMessages'], userId)),
  };

  readonly sessions: SessionTable = {
    latest: async (scope) => newest(await this.all<SessionRow>('userSessions', scope, 'byScope')),
    get: (scope, userId) => this.get<SessionRow>('userSessions', [scope, userId]),
    put: (row) => this.put('userSessions', row),
    delete: (scope, userId) => this.delete('userSessions', [scope, userId]),
  };

  readonly cache: CacheTable = {
    getRooms: async (userId) => (await this.get<RoomsRow>('rooms', userId))?.rooms ?? [],
    putRooms: (userId, rooms) => this.put('rooms', { userId, rooms, savedAt: Date.now() }),
    getMessages: async (userId, roomId) => (await this.get<MessagesRow>('messages', [userId, roomId]))?.messages ?? [],
    putMessages: (userId, roomId, messages) =>
      // Read and write in one transaction, so two concurrent puts cannot lose each other's messages.
      this.tx(['messages'], true, async (tx) => {
        const held = (await tx.get<MessagesRow>('messages', [userId, roomId]))?.messages ?? [];
        tx.put('messages', { userId, roomId, messages: mergeCachedMessages(held, messages), savedAt: Date.now() });
      }),
    updateMessages: (userId, roomId, messages, rev) =>
      this.tx(['messages', 'roomRevs'], true, async (tx) => {
        const [row, held] = await Promise.all([tx.get<MessagesRow>('messages', [userId, roomId]), tx.get<RoomRevRow>('roomRevs', [userId, roomId])]);
        if (row) {
          const next = updateCachedMessages(row.messages, messages);
          if (next !== row.messages) tx.put('messages', { ...row, messages: next, savedAt: Date.now() });
        }
        if (rev !== undefined && rev > (held?.rev ?? -1)) tx.put('roomRevs', { userId, roomId, rev });
      }),
    getRevs: async (userId) => {
      const out: Record<string, number> = {};
      for (const row of await this.all<RoomRevRow>('roomRevs', userId)) out[row.roomId] = row.rev;
      return out;
    },
    deleteMessages: (userId, roomId) =>
      this.tx(['messages', 'roomRevs'], true, async (tx) => {
        tx.delete('messages', [userId, roomId]);
        tx.delete('roomRevs', [userId, roomId]);
      }),
    clearUser: (userId) =>
      this.tx(['rooms', 'messages', 'roomRevs'], true, (tx) => {
        tx.delete('rooms', userId);
        return RowStorage.deleteAll(tx, ['messages', 'roomRevs'], userId);
      }),
  };

  readonly changes: ChangeTable = {
    put: (row) => this.put('pendingChanges', row),
    delete: (clientChangeId) => this.delete('pendingChanges', clientChangeId),
    listByUser: async (userId) => byOrder(await this.all<ChangeRow>('pendingChanges', userId)),
  };

  readonly reads: ReadTable = {
    // Coalesces: the higher seq stays.
    put: (row) =>
      this.tx(['pendingReads'], true, async (tx) => {
        const held = await tx.get<ReadRow>('pendingReads', [row.userId, row.roomId]);
        if (!held || held.seq < row.seq) tx.put('pendingReads', { ...row });
      }),
    delete: (userId, roomId, seq) =>
      this.tx(['pendingReads'], true, async (tx) => {
        const held = await tx.get<ReadRow>('pendingReads', [userId, roomId]);
        if (held && held.seq <= seq) tx.delete('pendingReads', [userId, roomId]);
      }),
    listByUser: (userId) => this.all('pendingReads', userId),
  };
}
