/** Durable state of the SDK: the outbox, drafts, the session and the offline cache. */
export * from './types.js';
export { openStorage, type OpenStorageOptions } from './open-storage.js';
export { MemoryStorage } from './memory-storage.js';
export { IdbStorage, type IdbStorageOptions } from './idb-storage.js';
export { DB_VERSION, DEFAULT_DB_NAME, type ChatDB } from './schema.js';
