import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite.js';
import type { Storage } from './types.js';

export type { Storage, ReadState, Session, UploadRecord, NewRoom, NewMessage, MessagePage, WriteHooks, RoomPage, MembersChange, LeaveChange, AppliedAction, MessageChange, ChangeResult } from './types.js';
export { imageOf, uploadIdOf } from './types.js';
export { MemoryStorage, SqliteStorage };

/**
 * `storage: 'memory'` (or `db: 'memory'`) keeps plain maps; otherwise `db` is a SQLite
 * file, and `':memory:'` a SQLite database that keeps nothing.
 */
export function openStorage(spec: { storage?: 'memory' | 'sqlite'; db?: string }): Storage {
  if (spec.storage === 'memory' || (spec.storage === undefined && spec.db === 'memory')) return new MemoryStorage();
  return new SqliteStorage(spec.db ?? ':memory:');
}
