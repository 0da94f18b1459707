import { ChatError } from '../protocol/index.js';
import type { StoreName } from './schema.js';
import { RowStorage, type RowKey, type RowTx } from './row-storage.js';

// Its own check, not contract/platform.ts's: storage sits below the contract layer.
const isBlobLike = (value: object): boolean =>
  typeof (value as Blob).size === 'number' && typeof (value as Blob).type === 'string' && typeof (value as Blob).arrayBuffer === 'function';

/**
 * A deep copy that keeps Blobs themselves: IndexedDB hands out copies, so memory must too
 * (a caller mutating a row it got must not change the stored one), but a Blob is
 * immutable and copying its bytes would only cost memory.
 */
function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null || isBlobLike(value)) return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = copy(field);
  return out as T;
}

/** Each store's key path, as schema.ts creates it in IndexedDB. */
const KEY_PATHS: Partial<Record<StoreName, string[]>> = {
  outgoingMessages: ['clientId'],
  draftMessages: ['key'],
  userSessions: ['scope', 'userId'],
  rooms: ['userId'],
  pendingChanges: ['clientChangeId'],
};
const keyText = (key: RowKey) => JSON.stringify([key].flat());
const INDEX_FIELDS = { byUser: 'userId', byScope: 'scope' };

/**
 * ChatStorage in memory: the fallback where IndexedDB is missing, and the store for Node.
 * The tables are IndexedDB's own (row-storage.ts); transactions run one after another, as
 * IndexedDB runs those that overlap, and every call is asynchronous.
 */
export class MemoryStorage extends RowStorage {
  override readonly kind = 'memory' as const;
  private closed = false;
  private readonly stores = new Map<StoreName, Map<string, Record<string, unknown>>>();
  private last: Promise<unknown> = Promise.resolve();

  override close(): void {
    this.closed = true;
  }

  protected override tx<R>(_stores: StoreName[], _write: boolean, fn: (tx: RowTx) => Promise<R>): Promise<R> {
    // Refused when called after close(), as IndexedDB refuses a new transaction; one called
    // before it still runs, as IndexedDB lets those already made finish.
    if (this.closed) return Promise.reject(new ChatError('CLOSED', 'storage is closed'));
    const store = (name: StoreName) => {
      let rows = this.stores.get(name);
      if (!rows) this.stores.set(name, (rows = new Map()));
      return rows;
    };
    const rows = (name: StoreName, field: string, value: string) => [...store(name).entries()].filter(([, row]) => row[field] === value);
    const tx: RowTx = {
      get: async (name, key) => copy(store(name).get(keyText(key))) as never,
      put: (name, row) => void store(name).set(keyText((KEY_PATHS[name] ?? ['userId', 'roomId']).map((field) => (row as Record<string, string>)[field]!)), copy(row) as Record<string, unknown>),
      delete: (name, key) => void store(name).delete(keyText(key)),
      all: async (name, index, value) => rows(name, INDEX_FIELDS[index], value).map(([, row]) => copy(row)) as never,
      keys: async (name, _index, value) => rows(name, 'userId', value).map(([key]) => JSON.parse(key) as string[]),
    };
    const run = this.last.then(() => fn(tx));
    this.last = run.catch(() => undefined);
    return run;
  }
}
