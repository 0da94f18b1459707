import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite.js';
import type { Storage } from './types.js';

export type { Storage, ReadState, Session, UploadRecord, NewRoom, NewMessage, MessagePage, WriteHooks, RoomPage, MembersChange, LeaveChange, AppliedAction, MessageChange, ChangeResult } from './types.js';
export { imageOf, uploadIdOf } from './types.js';
export { MemoryStorage, SqliteStorage };
export { UploadFiles, UploadWriter, sweepUploadFiles } from './upload-files.js';

/**
 * `storage: 'memory'` (or `db: 'memory'`) keeps plain maps; otherwise `db` is a SQLite
 * file, and `':memory:'` a SQLite database that keeps nothing. Upload bytes go to files
 * in `uploadsDir`: by default `<db>.uploads/` next to a SQLite file, else a temporary
 * directory removed at close.
 */
export function openStorage(spec: { storage?: 'memory' | 'sqlite'; db?: string; uploadsDir?: string | undefined }): Storage {
  const uploadsDir = spec.uploadsDir === undefined ? {} : { uploadsDir: spec.uploadsDir };
  if (spec.storage === 'memory' || (spec.storage === undefined && spec.db === 'memory')) return new MemoryStorage(uploadsDir);
  return new SqliteStorage(spec.db ?? ':memory:', uploadsDir);
}
