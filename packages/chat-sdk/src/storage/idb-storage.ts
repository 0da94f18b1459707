import { ChatError } from '../protocol/index.js';
import { DB_VERSION, STORE_NAMES, upgrade, type ChatDatabase, type MessagesRow, type RoomRevRow, type RoomsRow, type StoreName } from './schema.js';
import { committed, settled } from './idb-requests.js';

export { DEFAULT_DB_NAME } from './schema.js';
import {
  draftKey,
  type CacheTable,
  type ChangeTable,
  type ChatStorage,
  type DraftTable,
  type ChangeRow,
  type DraftRow,
  type OutboxRow,
  type OutboxTable,
  type ReadRow,
  type ReadTable,
  type SessionRow,
  type SessionTable,
} from './types.js';
import { mergeCachedMessages, newest, updateCachedMessages } from './row-merges.js';

export interface IdbStorageOptions {
  indexedDB: IDBFactory;
  name: string;
  /** Lets `listByUser` read the [userId, order] index; without it rows are sorted in memory. */
  IDBKeyRange?: typeof IDBKeyRange | undefined;
}

/** Opens over the factory we are given (not the global), so tests and workers can bring their own. */
function openWith(
  factory: IDBFactory,
  name: string,
  version: number | undefined,
  onBlocking: (db: ChatDatabase) => void,
): Promise<ChatDatabase> {
  const request = version === undefined ? factory.open(name) : factory.open(name, version);
  request.onupgradeneeded = (event) => upgrade(request.result, event.oldVersion, event.newVersion ?? DB_VERSION, request.transaction!);
  return settled(request).then((db) => {
    // Another connection wants a newer version (a tab with newer code): let it in
    // rather than block it, and reopen on our next use. `close` fires when the
    // browser drops the connection itself (storage cleared, disk error).
    db.addEventListener('versionchange', () => onBlocking(db));
    db.addEventListener('close', () => onBlocking(db));
    return db;
  });
}

const isError = (error: unknown, name: string): boolean =>
  typeof error === 'object' && error !== null && (error as { name?: unknown }).name === name;

/** Opens at our version, or at a newer one that still holds every store we use. */
async function connect(options: IdbStorageOptions, onBlocking: (db: ChatDatabase) => void): Promise<ChatDatabase> {
  try {
    return await openWith(options.indexedDB, options.name, DB_VERSION, onBlocking);
  } catch (error) {
    // Newer code upgraded the database past our version. Its steps only add stores and
    // indexes, so ours should still be there: open at its version and check that they are.
    if (!isError(error, 'VersionError')) throw error;
    const db = await openWith(options.indexedDB, options.name, undefined, onBlocking);
    if (STORE_NAMES.every((name) => db.objectStoreNames.contains(name))) return db;
    db.close();
    throw error;
  }
}

/** ChatStorage over IndexedDB. Open it with `IdbStorage.open`. */
export class IdbStorage implements ChatStorage {
  readonly kind = 'indexeddb' as const;
  private connection: Promise<ChatDatabase> | null;
  /** The open connection, known synchronously so a `versionchange` can drop it at once. */
  private current: ChatDatabase | null;
  private closed = false;
  /** How often the connection was opened; tests read it to see a lazy reopen. */
  opens = 1;

  private constructor(private readonly options: IdbStorageOptions, first: ChatDatabase) {
    this.connection = Promise.resolve(first);
    this.current = first;
  }

  static async open(options: IdbStorageOptions): Promise<IdbStorage> {
    let storage: IdbStorage | undefined;
    const db = await connect(options, (stale) => (storage ? storage.drop(stale) : stale.close()));
    storage = new IdbStorage(options, db);
    return storage;
  }

  close(): void {
    this.closed = true;
    this.current?.close();
    this.current = null;
    this.connection = null;
  }

  /** Forgets a connection that was asked to go, so the next call opens a new one. */
  private drop(stale: ChatDatabase): void {
    stale.close();
    if (this.current === stale) {
      this.current = null;
      this.connection = null;
    }
  }

  private db(): Promise<ChatDatabase> {
    if (this.closed) return Promise.reject(new ChatError('CLOSED', 'storage is closed'));
    if (!this.connection) {
      this.opens++;
      const connection = connect(this.options, (stale) => this.drop(stale));
      this.connection = connection;
      connection.then(
        (db) => {
          if (this.connection === connection) this.current = db;
          else db.close(); // closed or replaced meanwhile
        },
        // A failed reopen must not stick: the next call tries again.
        () => {
          if (this.connection === connection) this.connection = null;
        },
      );
    }
    return this.connection;
  }

  /** Runs `fn` on the connection; if it was closed under us mid-call, once more on a new one. */
  private async run<R>(fn: (db: ChatDatabase) => Promise<R>): Promise<R> {
    const db = await this.db();
    try {
      return await fn(db);
    } catch (error) {
      if (!isError(error, 'InvalidStateError') || this.closed) throw error;
      this.drop(db);
      return fn(await this.db());
    }
  }

  /** One request on one store in its own transaction; a write resolves once it has committed. */
  private one<R>(name: StoreName, write: boolean, request: (store: IDBObjectStore) => IDBRequest): Promise<R> {
    return this.run(async (db) => {
      const tx = db.transaction(name, write ? 'readwrite' : 'readonly');
      const [result] = await Promise.all([settled(request(tx.objectStore(name))), write && committed(tx)]);
      return result as R;
    });
  }

  private get<R>(name: StoreName, key: IDBValidKey): Promise<R | undefined> {
    return this.one(name, false, (store) => store.get(key));
  }

  private put(name: StoreName, row: object): Promise<void> {
    return this.one(name, true, (store) => store.put(row));
  }

  private delete(name: StoreName, key: IDBValidKey): Promise<void> {
    return this.one(name, true, (store) => store.delete(key));
  }

  /** Every row of an index with this key (or in this range). */
  private byIndex<R>(name: StoreName, index: string, query: IDBValidKey | IDBKeyRange): Promise<R[]> {
    return this.one(name, false, (store) => store.index(index).getAll(query));
  }

  /** A read-write transaction on these stores, run by `fn`; resolves once `fn` is done and it has committed. */
  private write(names: StoreName[], fn: (store: (name: StoreName) => IDBObjectStore) => Promise<unknown>): Promise<void> {
    return this.run(async (db) => {
      const tx = db.transaction(names, 'readwrite');
      await Promise.all([fn((name) => tx.objectStore(name)), committed(tx)]);
    });
  }

  readonly outbox: OutboxTable = {
    put: (row) => this.put('outgoingMessages', row),
    get: (clientId) => this.get('outgoingMessages', clientId),
    delete: (clientId) => this.delete('outgoingMessages', clientId),
    listByUser: async (userId) => {
      const KeyRange = this.options.IDBKeyRange;
      if (KeyRange) return this.byIndex('outgoingMessages', 'byUserOrder', KeyRange.bound([userId, -Infinity], [userId, Infinity]));
      return byOrder(await this.byIndex<OutboxRow>('outgoingMessages', 'byUser', userId));
    },
  };

  readonly drafts: DraftTable = {
    get: (userId, roomId) => this.get<DraftRow>('draftMessages', draftKey(userId, roomId)),
    put: (row) => this.put('draftMessages', row),
    delete: (userId, roomId) => this.delete('draftMessages', draftKey(userId, roomId)),
    deleteByUser: (userId) =>
      this.write(['draftMessages'], async (store) => {
        const drafts = store('draftMessages');
        for (const key of await settled(drafts.index('byUser').getAllKeys(userId))) drafts.delete(key);
      }),
  };

  readonly sessions: SessionTable = {
    latest: async (scope) => newest(await this.byIndex<SessionRow>('userSessions', 'byScope', scope)),
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
      this.write(['messages'], async (store) => {
        const held = (await settled<MessagesRow | undefined>(store('messages').get([userId, roomId])))?.messages ?? [];
        store('messages').put({ userId, roomId, messages: mergeCachedMessages(held, messages), savedAt: Date.now() });
      }),
    updateMessages: (userId, roomId, messages, rev) =>
      this.write(['messages', 'roomRevs'], async (store) => {
        const [row, held] = await Promise.all([
          settled<MessagesRow | undefined>(store('messages').get([userId, roomId])),
          settled<RoomRevRow | undefined>(store('roomRevs').get([userId, roomId])),
        ]);
        if (row) {
          const next = updateCachedMessages(row.messages, messages);
          if (next !== row.messages) store('messages').put({ ...row, messages: next, savedAt: Date.now() });
        }
        if (rev !== undefined && rev > (held?.rev ?? -1)) store('roomRevs').put({ userId, roomId, rev });
      }),
    getRevs: async (userId) => {
      const out: Record<string, number> = {};
      for (const row of await this.byIndex<RoomRevRow>('roomRevs', 'byUser', userId)) out[row.roomId] = row.rev;
      return out;
    },
    deleteMessages: (userId, roomId) =>
      this.write(['messages', 'roomRevs'], async (store) => {
        store('messages').delete([userId, roomId]);
        store('roomRevs').delete([userId, roomId]);
      }),
    clearUser: (userId) =>
      this.write(['rooms', 'messages', 'roomRevs'], async (store) => {
        store('rooms').delete(userId);
        await Promise.all(
          (['messages', 'roomRevs'] as const).map(async (name) => {
            for (const key of await settled(store(name).index('byUser').getAllKeys(userId))) store(name).delete(key);
          }),
        );
      }),
  };

  readonly changes: ChangeTable = {
    put: (row) => this.put('pendingChanges', row),
    delete: (clientChangeId) => this.delete('pendingChanges', clientChangeId),
    listByUser: async (userId) => byOrder(await this.byIndex<ChangeRow>('pendingChanges', 'byUser', userId)),
  };

  readonly reads: ReadTable = {
    put: (row) =>
      this.write(['pendingReads'], async (store) => {
        const held = await settled<ReadRow | undefined>(store('pendingReads').get([row.userId, row.roomId]));
        if (!held || held.seq < row.seq) store('pendingReads').put({ ...row });
      }),
    delete: (userId, roomId, seq) =>
      this.write(['pendingReads'], async (store) => {
        const held = await settled<ReadRow | undefined>(store('pendingReads').get([userId, roomId]));
        if (held && held.seq <= seq) store('pendingReads').delete([userId, roomId]);
      }),
    listByUser: (userId) => this.byIndex('pendingReads', 'byUser', userId),
  };
}

const byOrder = <T extends { order: number }>(rows: T[]): T[] => rows.sort((a, b) => a.order - b.order);
