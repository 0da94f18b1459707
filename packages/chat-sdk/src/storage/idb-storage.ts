import { wrap } from 'idb';
import { ChatError } from '../protocol/index.js';
import { DB_VERSION, STORE_NAMES, upgrade, type ChatDatabase } from './schema.js';

export { DEFAULT_DB_NAME } from './schema.js';
import {
  draftKey,
  type CacheTable,
  type ChangeTable,
  type ChatStorage,
  type DraftTable,
  type OutboxRow,
  type OutboxTable,
  type ReadTable,
  type SessionTable,
} from './types.js';
import { mergeCachedMessages, newest, updateCachedMessages } from './row-merges.js';

export interface IdbStorageOptions {
  indexedDB: IDBFactory;
  name: string;
  /** Lets `listByUser` read the [userId, order] index; without it rows are sorted in memory. */
  IDBKeyRange?: typeof IDBKeyRange | undefined;
}

/**
 * idb's `openDB` reads the global `indexedDB`; this is the same thing over a factory we
 * are given, so tests and workers can bring their own.
 */
function openWith(
  factory: IDBFactory,
  name: string,
  version: number | undefined,
  onBlocking: (db: ChatDatabase) => void,
): Promise<ChatDatabase> {
  const request = version === undefined ? factory.open(name) : factory.open(name, version);
  request.addEventListener('upgradeneeded', (event) => {
    const tx = request.transaction as IDBTransaction;
    upgrade(wrap(request.result) as ChatDatabase, event.oldVersion, event.newVersion ?? DB_VERSION, wrap(tx) as never);
  });
  const opened = wrap(request) as unknown as Promise<ChatDatabase>;
  return opened.then((db) => {
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

/** ChatStorage over IndexedDB (idb 8). Open it with `IdbStorage.open`. */
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

  readonly outbox: OutboxTable = {
    put: (row) => this.run(async (db) => void (await db.put('outgoingMessages', row))),
    get: (clientId) => this.run((db) => db.get('outgoingMessages', clientId)),
    delete: (clientId) => this.run((db) => db.delete('outgoingMessages', clientId)),
    listByUser: (userId) =>
      this.run(async (db) => {
        const KeyRange = this.options.IDBKeyRange;
        if (KeyRange) {
          const range = KeyRange.bound([userId, -Infinity], [userId, Infinity]);
          return db.getAllFromIndex('outgoingMessages', 'byUserOrder', range);
        }
        const rows = await db.getAllFromIndex('outgoingMessages', 'byUser', userId);
        return rows.sort((a: OutboxRow, b: OutboxRow) => a.order - b.order);
      }),
  };

  readonly drafts: DraftTable = {
    get: (userId, roomId) => this.run((db) => db.get('draftMessages', draftKey(userId, roomId))),
    put: (row) => this.run(async (db) => void (await db.put('draftMessages', row))),
    delete: (userId, roomId) => this.run((db) => db.delete('draftMessages', draftKey(userId, roomId))),
    deleteByUser: (userId) =>
      this.run(async (db) => {
        const tx = db.transaction('draftMessages', 'readwrite');
        const keys = await tx.store.index('byUser').getAllKeys(userId);
        await Promise.all([...keys.map((key) => tx.store.delete(key)), tx.done]);
      }),
  };

  readonly sessions: SessionTable = {
    latest: (scope) => this.run(async (db) => newest(await db.getAllFromIndex('userSessions', 'byScope', scope))),
    get: (scope, userId) => this.run((db) => db.get('userSessions', [scope, userId])),
    put: (row) => this.run(async (db) => void (await db.put('userSessions', row))),
    delete: (scope, userId) => this.run((db) => db.delete('userSessions', [scope, userId])),
  };

  readonly cache: CacheTable = {
    getRooms: (userId) => this.run(async (db) => (await db.get('rooms', userId))?.rooms ?? []),
    putRooms: (userId, rooms) =>
      this.run(async (db) => void (await db.put('rooms', { userId, rooms, savedAt: Date.now() }))),
    getMessages: (userId, roomId) => this.run(async (db) => (await db.get('messages', [userId, roomId]))?.messages ?? []),
    putMessages: (userId, roomId, messages) =>
      this.run(async (db) => {
        // Read and write in one transaction, so two concurrent puts cannot lose each other's messages.
        const tx = db.transaction('messages', 'readwrite');
        const held = (await tx.store.get([userId, roomId]))?.messages ?? [];
        const merged = mergeCachedMessages(held, messages);
        await Promise.all([tx.store.put({ userId, roomId, messages: merged, savedAt: Date.now() }), tx.done]);
      }),
    updateMessages: (userId, roomId, messages, rev) =>
      this.run(async (db) => {
        const tx = db.transaction(['messages', 'roomRevs'], 'readwrite');
        const store = tx.objectStore('messages');
        const revs = tx.objectStore('roomRevs');
        const [row, held] = await Promise.all([store.get([userId, roomId]), revs.get([userId, roomId])]);
        const writes: Promise<unknown>[] = [];
        if (row) {
          const next = updateCachedMessages(row.messages, messages);
          if (next !== row.messages) writes.push(store.put({ ...row, messages: next, savedAt: Date.now() }));
        }
        if (rev !== undefined && rev > (held?.rev ?? -1)) writes.push(revs.put({ userId, roomId, rev }));
        await Promise.all([...writes, tx.done]);
      }),
    getRevs: (userId) =>
      this.run(async (db) => {
        const out: Record<string, number> = {};
        for (const row of await db.getAllFromIndex('roomRevs', 'byUser', userId)) out[row.roomId] = row.rev;
        return out;
      }),
    deleteMessages: (userId, roomId) =>
      this.run(async (db) => {
        const tx = db.transaction(['messages', 'roomRevs'], 'readwrite');
        await Promise.all([tx.objectStore('messages').delete([userId, roomId]), tx.objectStore('roomRevs').delete([userId, roomId]), tx.done]);
      }),
    clearUser: (userId) =>
      this.run(async (db) => {
        const tx = db.transaction(['rooms', 'messages', 'roomRevs'], 'readwrite');
        const messages = tx.objectStore('messages');
        const revs = tx.objectStore('roomRevs');
        const [keys, revKeys] = await Promise.all([messages.index('byUser').getAllKeys(userId), revs.index('byUser').getAllKeys(userId)]);
        await Promise.all([
          tx.objectStore('rooms').delete(userId),
          ...keys.map((key) => messages.delete(key)),
          ...revKeys.map((key) => revs.delete(key)),
          tx.done,
        ]);
      }),
  };

  readonly changes: ChangeTable = {
    put: (row) => this.run(async (db) => void (await db.put('pendingChanges', row))),
    delete: (clientChangeId) => this.run((db) => db.delete('pendingChanges', clientChangeId)),
    listByUser: (userId) =>
      this.run(async (db) => (await db.getAllFromIndex('pendingChanges', 'byUser', userId)).sort((a, b) => a.order - b.order)),
  };

  readonly reads: ReadTable = {
    put: (row) =>
      this.run(async (db) => {
        const tx = db.transaction('pendingReads', 'readwrite');
        const held = await tx.store.get([row.userId, row.roomId]);
        await Promise.all([held && held.seq >= row.seq ? undefined : tx.store.put({ ...row }), tx.done]);
      }),
    delete: (userId, roomId, seq) =>
      this.run(async (db) => {
        const tx = db.transaction('pendingReads', 'readwrite');
        const held = await tx.store.get([userId, roomId]);
        await Promise.all([held && held.seq <= seq ? tx.store.delete([userId, roomId]) : undefined, tx.done]);
      }),
    listByUser: (userId) => this.run((db) => db.getAllFromIndex('pendingReads', 'byUser', userId)),
  };
}
