import type { ChatStorage } from './types.js';

export interface OpenStorageOptions {
  /** 'indexeddb' (the default) falls back to memory when it must; 'memory' never touches IndexedDB. */
  kind?: 'indexeddb' | 'memory';
  /** The IndexedDB factory; default the global `indexedDB`, read when called. */
  indexedDB?: IDBFactory;
  /** The database name; default 'chat-sdk'. */
  name?: string;
  /** Told once, with the reason, when IndexedDB cannot be used and memory is used instead. */
  onFallback?: (reason: string) => void;
}

const describeError = (error: unknown): string =>
  error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
    ? `${(error as Error).name}: ${(error as Error).message}`
    : String(error);

/**
 * Opens the SDK's storage. Without IndexedDB (Node, some private modes, an `open` that
 * throws or fails) it falls back to memory rather than fail: the app still works, it just
 * forgets on reload, and `onFallback` says so once.
 */
export async function openStorage(options: OpenStorageOptions = {}): Promise<ChatStorage> {
  if (options.kind === 'memory') return memoryStorage();
  // Globals are read here, never at import time, so importing the SDK during SSR is safe.
  const factory = options.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  const fallback = (reason: string): Promise<ChatStorage> => {
    options.onFallback?.(reason);
    return memoryStorage();
  };
  if (!factory) return fallback('IndexedDB is not available');
  try {
    // Loaded when storage is opened, not with the entry: nothing can use it before this resolves anyway.
    const { IdbStorage, DEFAULT_DB_NAME } = await import('./idb-storage.js');
    return await IdbStorage.open({ indexedDB: factory, name: options.name ?? DEFAULT_DB_NAME });
  } catch (error) {
    return fallback(`IndexedDB could not be opened (${describeError(error)})`);
  }
}

/** Loaded only where it is used (Node, a fallback): a browser with IndexedDB never downloads it. */
async function memoryStorage(): Promise<ChatStorage> {
  const { MemoryStorage } = await import('./memory-storage.js');
  return new MemoryStorage();
}
