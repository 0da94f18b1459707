import { ChatError } from '../protocol/index.js';
import { DB_VERSION, STORE_NAMES, upgrade, type ChatDatabase } from './schema.js';
import { committed, settled } from './idb-requests.js';
import { RowStorage, type RowTx } from './row-storage.js';

export { DEFAULT_DB_NAME } from './schema.js';

export interface IdbStorageOptions {
  indexedDB: IDBFactory;
  name: string;
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
export class IdbStorage extends RowStorage {
  override readonly kind = 'indexeddb' as const;
  private connection: Promise<ChatDatabase> | null;
  /** The open connection, known synchronously so a `versionchange` can drop it at once. */
  private current: ChatDatabase | null;
  private closed = false;
  /** How often the connection was opened; tests read it to see a lazy reopen. */
  opens = 1;

  private constructor(private readonly options: IdbStorageOptions, first: ChatDatabase) {
    super();
    this.connection = Promise.resolve(first);
    this.current = first;
  }

  static async open(options: IdbStorageOptions): Promise<IdbStorage> {
    let storage: IdbStorage | undefined;
    const db = await connect(options, (stale) => (storage ? storage.drop(stale) : stale.close()));
    storage = new IdbStorage(options, db);
    return storage;
  }

  override close(): void {
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

  protected override tx<R>(stores: string[], write: boolean, fn: (tx: RowTx) => Promise<R>): Promise<R> {
    return this.run(async (db) => {
      const t = db.transaction(stores, write ? 'readwrite' : 'readonly');
      const store = (name: string) => t.objectStore(name);
      const tx: RowTx = {
        get: (name, key) => settled(store(name).get(key)),
        put: (name, row) => void store(name).put(row),
        delete: (name, key) => void store(name).delete(key),
        all: (name, index, value) => settled(store(name).index(index).getAll(value)),
        keys: (name, index, value) => settled(store(name).index(index).getAllKeys(value)) as Promise<string[]>,
      };
      const [result] = await Promise.all([fn(tx), write && committed(t)]);
      return result;
    });
  }
}
