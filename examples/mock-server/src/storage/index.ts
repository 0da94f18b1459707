import { MemoryStorage } from './memory.js';
import { SqliteStorage } from './sqlite.js';
import { type AsyncStorage, asAsync } from './async-storage.js';
import { GroupCommit, withGroupCommit } from './group-commit.js';
import type { Storage } from './types.js';

export type { Storage, ReadState, Session, UploadRecord, NewRoom, NewMessage, MessagePage, WriteHooks, RoomPage, MembersChange, LeaveChange, AppliedAction, MessageChange, ChangeResult } from './types.js';
export { imageOf, uploadIdOf } from './types.js';
export { MemoryStorage, SqliteStorage };
export { type AsyncStorage, asAsync, GroupCommit, withGroupCommit };
export { SHARED_SWEEP_AGE_MS, UploadFiles, UploadWriter, sweepUploadFiles } from './upload-files.js';

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

/** `postgres://` or `postgresql://`: a PostgreSQL url rather than a SQLite file name. */
export function isPostgresUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

/**
 * What the server opens: with `db` a PostgreSQL url, `PostgresStorage` (connected and
 * migrated before this resolves); otherwise `openStorage`'s store seen through `asAsync`,
 * SQLite's new messages group-committed (`withGroupCommit`).
 * The PostgreSQL store is loaded only when asked for.
 */
export async function openAsyncStorage(spec: { storage?: 'memory' | 'sqlite'; db?: string; uploadsDir?: string | undefined }): Promise<AsyncStorage> {
  if (spec.storage !== 'memory' && isPostgresUrl(spec.db)) {
    const { PostgresStorage } = await import('./postgres/index.js');
    return PostgresStorage.open({ url: spec.db, ...(spec.uploadsDir === undefined ? {} : { uploadsDir: spec.uploadsDir }) });
  }
  const storage = openStorage(spec);
  return storage instanceof SqliteStorage ? withGroupCommit(storage) : asAsync(storage);
}
