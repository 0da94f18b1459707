import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite.js';
import type { Storage } from './types.js';

export type { Storage, Session, Upload, NewRoom, NewMessage, MessagePage, WriteHooks } from './types.js';
export { imageOf } from './types.js';
export { MemoryStorage, SqliteStorage };

/** `'memory'` keeps plain maps; any other value is a SQLite file (`':memory:'` keeps nothing). */
export function openStorage(spec: { storage?: 'memory' | 'sqlite'; db?: string }): Storage {
  if (spec.storage === 'memory') return new MemoryStorage();
  return new SqliteStorage(spec.db ?? ':memory:');
}
