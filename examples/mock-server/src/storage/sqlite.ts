import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { ChatError, type Message, type Room, type User } from '@chat/sdk/protocol';
import { planChange } from './changes.js';
import {
  type MessageRow, type ParentRow, type RoomRow, type SessionRow, type UploadRow, type UserRow,
  parentIdsOf, stateOf, toUpload, toUser, withQuotes,
} from './rows.js';
import type {
  AppliedAction, ChangeResult, LeaveChange, MembersChange, MessageChange, MessagePage, NewMessage, NewRoom, ReadState, RoomPage, Session, Storage,
  UploadRecord, WriteHooks,
} from './types.js';
import { uploadIdOf } from './types.js';
import { UploadFiles } from './upload-files.js';
import { Checkpointer } from './checkpointer.js';

/** Version 1's tables (0.1 wrote them without a user_version, hence IF NOT EXISTS). Exported for the migration tests. */
export const SCHEMA_V1 = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_lower TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rooms (
  id TEXT PRIMARY KEY,
  name TEXT,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0,
  activity INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS rooms_activity ON rooms(activity);
CREATE TABLE IF NOT EXISTS room_members (
  room_id TEXT NOT NULL REFERENCES rooms(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  position INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS room_members_user ON room_members(user_id);
CREATE TABLE IF NOT EXISTS messages (
  id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES rooms(id),
  seq INTEGER NOT NULL,
  sender_id TEXT NOT NULL REFERENCES users(id),
  client_id TEXT NOT NULL,
  text TEXT NOT NULL,
  image TEXT,
  created_at INTEGER NOT NULL,
  UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS messages_client_id ON messages(sender_id, client_id);
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id),
  url TEXT NOT NULL,
  mime TEXT NOT NULL,
  size INTEGER NOT NULL,
  width INTEGER,
  height INTEGER,
  bytes BLOB NOT NULL,
  created_at INTEGER NOT NULL
);
`;

/**
 * 1.1 membership: who added a member after the room was made (no row: its creator), the
 * idempotency keys of room changes, and who blocked whom from adding them to rooms.
 * Version 1's tables stay as they were.
 */
const MEMBERSHIP = `
CREATE TABLE member_adders (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  added_by TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE TABLE applied_changes (
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  client_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  PRIMARY KEY (user_id, action, client_id)
) WITHOUT ROWID;
CREATE TABLE member_blocks (
  user_id TEXT NOT NULL,
  blocked_id TEXT NOT NULL,
  PRIMARY KEY (user_id, blocked_id)
) WITHOUT ROWID;
CREATE INDEX room_members_user_room ON room_members(user_id, room_id);
`;

/**
 * Read state (protocol 10.4): each member's read cursor, and an index that counts a
 * member's own messages after it (unread = lastSeq - cursor - own messages after it).
 */
const READ_STATE = `
ALTER TABLE room_members ADD COLUMN read_seq INTEGER NOT NULL DEFAULT 0;
CREATE INDEX messages_room_sender_seq ON messages(room_id, sender_id, seq);
`;

/**
 * Presence (protocol 10.3): when a user's last connection closed, so "last seen" survives a
 * restart. A table of its own rather than a column of users: written often, read by id only.
 */
const PRESENCE = `
CREATE TABLE last_seen (
  user_id TEXT PRIMARY KEY REFERENCES users(id),
  at INTEGER NOT NULL
) WITHOUT ROWID;
`;

/**
 * Abuse resistance: upload bytes in parts (streamed in, streamed out, metadata read
 * without them), uploads no message uses yet listed in unused_uploads (those stored
 * before count as used), a user's upload total by owner, expired sessions by a sweep.
 */
const UPLOADS = `
  CREATE TABLE unused_uploads (
    upload_id TEXT PRIMARY KEY,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX unused_uploads_created ON unused_uploads(created_at);
  CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL,
    idx INTEGER NOT NULL,
    bytes BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (upload_id, idx)
  );
  CREATE INDEX upload_parts_created ON upload_parts(created_at);
  CREATE INDEX uploads_owner ON uploads(owner_id);
  CREATE INDEX sessions_expires ON sessions(expires_at);
  `;

/**
 * Message changes (protocol 10.5): the room's change counter, each message's rev, edit and
 * delete times, its reactions (a JSON object on the row, so a page of messages reads them
 * with no further query), the id of the message it answers (the quote is read from the
 * parent when the reply is read, never copied) and the upload its image is (so a delete
 * knows whether any other message still shows it). The rev index makes get_changes a range
 * scan; the keys of applied changes remember the message each one changed. Messages stored
 * before get their upload id from their image's url (its last path segment).
 */
export const MESSAGE_CHANGES = `
ALTER TABLE rooms ADD COLUMN last_rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN reply_to TEXT;
ALTER TABLE messages ADD COLUMN upload_id TEXT;
UPDATE messages SET upload_id = (
  SELECT replace(url, rtrim(url, replace(url, '/', '')), '') FROM (SELECT json_extract(image, '$.url') AS url)
  WHERE instr(url, '/uploads/') > 0
) WHERE image IS NOT NULL;
CREATE INDEX messages_room_rev ON messages(room_id, rev);
CREATE INDEX messages_upload ON messages(upload_id) WHERE upload_id IS NOT NULL;
CREATE TABLE applied_message_changes (
  user_id TEXT NOT NULL,
  client_change_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (user_id, client_change_id)
) WITHOUT ROWID;
`;


/**
 * Upload bytes out of SQLite into files (`UploadFiles`): each upload's bytes, from the
 * 0.1 `uploads.bytes` column or from `upload_parts`, are written to its file (temporary
 * name, flushed, renamed), then the parts table and the column go. Parts of uploads that
 * never completed are dropped with the table. Files are written inside the step's
 * transaction, before the version moves: a crash half-way leaves the version where it was,
 * and the next start writes them again (over any a previous attempt left). The pages the
 * blobs held are free pages of the file afterwards (`VACUUM` gives them back to the disk).
 */
export function UPLOAD_FILES(db: Database.Database, files: UploadFiles): void {
  const ids = db.prepare('SELECT id FROM uploads').pluck().all() as string[];
  const whole = db.prepare<[string], Buffer>('SELECT bytes FROM uploads WHERE id = ? AND length(bytes) > 0').pluck();
  const indexes = db.prepare<[string], number>('SELECT idx FROM upload_parts WHERE upload_id = ? ORDER BY idx').pluck();
  const part = db.prepare<[string, number], Buffer>('SELECT bytes FROM upload_parts WHERE upload_id = ? AND idx = ?').pluck();
  for (const id of ids) {
    const old = whole.get(id);
    // One blob or one part in memory at a time.
    files.writeSync(id, old ? [old] : (function* () {
      for (const idx of indexes.all(id)) yield part.get(id, idx)!;
    })());
  }
  db.exec('DROP TABLE upload_parts; ALTER TABLE uploads DROP COLUMN bytes;');
}

/**
 * New messages have rev 0 (none changed them yet) and `get_changes` asks only for revs above
 * a cursor of 0 or more: the rev index need not hold them, and each new message writes one
 * index fewer (about a seventh of a message's write at 5,000 users, docs/benchmarks.md).
 */
const CHANGED_MESSAGES_ONLY = `
DROP INDEX messages_room_rev;
CREATE INDEX messages_room_rev ON messages(room_id, rev) WHERE rev > 0;
`;

/** A schema step: SQL, or a function for what SQL alone cannot do (run in the step's transaction). */
export type Migration = string | ((db: Database.Database, files: UploadFiles) => void);

/**
 * MIGRATIONS[i] takes the file from `PRAGMA user_version` i to i + 1, each in its own
 * transaction with the version bump, so a crash leaves the file at a version it can resume
 * from. Never edit a shipped step: add one.
 *
 * Exported for the migration tests (a file at an earlier version is written from its steps).
 */
export const MIGRATIONS: ReadonlyArray<Migration> = [SCHEMA_V1, MEMBERSHIP, READ_STATE, PRESENCE, UPLOADS, MESSAGE_CHANGES, UPLOAD_FILES, CHANGED_MESSAGES_ONLY];

/** Brings the file to `until` (default: the newest schema), one step per transaction. Exported for the migration tests. */
export function migrate(db: Database.Database, files: UploadFiles, until = MIGRATIONS.length): void {
  const at = db.pragma('user_version', { simple: true }) as number;
  if (at > MIGRATIONS.length) {
    throw new Error(`this database was written by a newer server (schema ${at}, this server knows ${MIGRATIONS.length})`);
  }
  for (let version = at; version < until; version++) {
    const step = MIGRATIONS[version]!;
    db.transaction(() => {
      if (typeof step === 'string') db.exec(step);
      else step(db, files);
      db.pragma(`user_version = ${version + 1}`);
    }).immediate();
  }
}


/**
 * WAL checkpoints of a file: one on the checkpointer's thread after every this many new
 * messages (a few thousand pages of WAL); the store's own, on its thread, only past
 * `FALLBACK_CHECKPOINT_PAGES` (as a bound: writes of other kinds, a thread fallen behind);
 * the WAL file cut back to `WAL_SIZE_LIMIT` bytes once checkpointed.
 */
export const CHECKPOINT_EVERY_MESSAGES = 1000;
const FALLBACK_CHECKPOINT_PAGES = 10_000;
const WAL_SIZE_LIMIT = 64 * 1024 * 1024;

/** Thrown inside a message's savepoint when its (sender, clientId) is taken: rolls back the seq it took. Never leaves the store. */
const DUPLICATE = new Error('duplicate clientId');

/** Rooms whose members are kept in memory at most (a few MB). */
const MEMBER_CACHE_ROOMS = 10_000;

/**
 * better-sqlite3 in WAL mode. Each write is one transaction; a message's seq is read and
 * assigned inside it, and UNIQUE indexes on (room_id, seq) and (sender_id, client_id)
 * back the rules up should anything else ever write to the file.
 */
export class SqliteStorage implements Storage {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly stmt;
  private closed = false;
  /**
   * Each room's members as last read (in member order, and as a set for O(1) checks),
   * dropped by every write that changes them: this process is the file's only writer.
   */
  private readonly members = new Map<string, { ids: readonly string[]; set: ReadonlySet<string> }>();
  /** `writeMessage` as a transaction, made once: called inside a batch's transaction it is a savepoint. */
  private readonly insertMessage: Database.Transaction<(input: NewMessage, hooks?: WriteHooks) => { message: Message; duplicate: boolean }>;
  /** WAL checkpoints off the server's thread (a file only; none for `:memory:`). */
  readonly checkpointer: Checkpointer | undefined;
  /** Upload bytes: files in `<file>.uploads/` (or `uploadsDir`); for `:memory:` a temporary folder removed at close. */
  readonly uploadFiles: UploadFiles;

  constructor(file: string, options: { uploadsDir?: string } = {}) {
    const kept = file !== ':memory:' && file !== '';
    if (kept) mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    // Deleted means deleted (a tombstone's text, a deleted upload): freed content is zeroed,
    // not left readable in free space of the file.
    this.db.pragma('secure_delete = ON');
    // A batch of messages gives each its own savepoint, whose sub-journal (the pages a
    // rollback to it restores) spills to a temporary file past 64 KB and then stays one,
    // a write per page, for the rest of the transaction. In memory it is one message's
    // pages at most: it is emptied at each release. Crash safety does not use it (the WAL does).
    this.db.pragma('temp_store = MEMORY');
    if (kept) {
      this.db.pragma(`wal_autocheckpoint = ${FALLBACK_CHECKPOINT_PAGES}`);
      this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    }
    try {
      this.uploadFiles = new UploadFiles(options.uploadsDir ?? (kept ? `${file}.uploads` : undefined));
    } catch (error) {
      this.db.close();
      throw error;
    }
    try {
      migrate(this.db, this.uploadFiles);
    } catch (error) {
      this.db.close();
      this.uploadFiles.close();
      throw error;
    }
    this.checkpointer = kept ? new Checkpointer(file, CHECKPOINT_EVERY_MESSAGES) : undefined;
    const db = this.db;
    this.insertMessage = db.transaction((input: NewMessage, hooks?: WriteHooks) => this.writeMessage(input, hooks));
    this.stmt = {
      insertUser: db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)'),
      userById: db.prepare<[string], UserRow>('SELECT id, email, name, created_at FROM users WHERE id = ?'),
      userByEmail: db.prepare<[string], UserRow>('SELECT id, email, name, created_at FROM users WHERE email = ?'),
      searchUsers: db.prepare<[string, string, string, number], UserRow>(
        `SELECT id, email, name, created_at FROM users
         WHERE email > ? AND (email = ? OR instr(name_lower, ?) = 1)
         ORDER BY email LIMIT ?`,
      ),
      insertSession: db.prepare('INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)'),
      sessionByHash: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE token_hash = ?'),
      deleteSession: db.prepare('DELETE FROM sessions WHERE id = ?'),
      nextActivity: db.prepare<[], { next: number }>('SELECT coalesce(max(activity), 0) + 1 AS next FROM rooms'),
      insertRoom: db.prepare('INSERT INTO rooms (id, name, created_by, created_at, last_seq, activity) VALUES (?, ?, ?, ?, 0, ?)'),
      insertMember: db.prepare('INSERT INTO room_members (room_id, user_id, position) VALUES (?, ?, ?)'),
      insertAdder: db.prepare('INSERT OR REPLACE INTO member_adders (room_id, user_id, added_by) VALUES (?, ?, ?)'),
      deleteAdder: db.prepare('DELETE FROM member_adders WHERE room_id = ? AND user_id = ?'),
      nextPosition: db.prepare<[string], { next: number }>('SELECT coalesce(max(position), -1) + 1 AS next FROM room_members WHERE room_id = ?'),
      memberAdder: db.prepare<[string, string], { added_by: string }>('SELECT added_by FROM member_adders WHERE room_id = ? AND user_id = ?'),
      deleteMember: db.prepare('DELETE FROM room_members WHERE room_id = ? AND user_id = ?'),
      insertApplied: db.prepare('INSERT INTO applied_changes (user_id, action, client_id, room_id) VALUES (?, ?, ?, ?)'),
      applied: db.prepare<[string, string, string], { room_id: string }>(
        'SELECT room_id FROM applied_changes WHERE user_id = ? AND action = ? AND client_id = ?',
      ),
      insertBlock: db.prepare('INSERT OR IGNORE INTO member_blocks (user_id, blocked_id) VALUES (?, ?)'),
      isBlocked: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM member_blocks WHERE user_id = ? AND blocked_id = ?'),
      userRoomsPage: db.prepare<[string, number, number], RoomRow & { activity: number }>(
        `SELECT r.id, r.name, r.created_by, r.created_at, r.last_seq, r.last_rev, r.activity FROM rooms r
         JOIN room_members m ON m.room_id = r.id WHERE m.user_id = ? AND r.activity < ? ORDER BY r.activity DESC LIMIT ?`,
      ),
      roomById: db.prepare<[string], RoomRow>('SELECT id, name, created_by, created_at, last_seq, last_rev FROM rooms WHERE id = ?'),
      roomMembers: db.prepare<[string], { user_id: string }>('SELECT user_id FROM room_members WHERE room_id = ? ORDER BY position'),
      isMember: db.prepare<[string, string], { one: number }>('SELECT 1 AS one FROM room_members WHERE room_id = ? AND user_id = ?'),
      userRooms: db.prepare<[string], RoomRow>(
        `SELECT r.id, r.name, r.created_by, r.created_at, r.last_seq, r.last_rev FROM rooms r
         JOIN room_members m ON m.room_id = r.id WHERE m.user_id = ? ORDER BY r.activity DESC`,
      ),
      // The room's next seq and the next activity in one statement (no row: no such room).
      takeSeq: db.prepare<[string], { seq: number }>(
        `UPDATE rooms SET last_seq = last_seq + 1, activity = (SELECT coalesce(max(activity), 0) + 1 FROM rooms)
         WHERE id = ? RETURNING last_seq AS seq`,
      ),
      // A (sender, clientId) already taken inserts nothing (changes = 0): the duplicate check
      // is the unique index's own lookup, not a statement of its own.
      insertMessage: db.prepare(
        `INSERT INTO messages (id, room_id, seq, sender_id, client_id, text, image, created_at, reply_to, upload_id)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (sender_id, client_id) DO NOTHING`,
      ),
      messageById: db.prepare<[string], MessageRow>('SELECT * FROM messages WHERE id = ?'),
      // The parents of a page's replies, however many, in one statement (ids as a JSON array).
      parents: db.prepare<[string], ParentRow>(
        'SELECT id, sender_id, text, deleted_at FROM messages WHERE id IN (SELECT value FROM json_each(?))',
      ),
      changes: db.prepare<[string, number, number], MessageRow>(
        // `rev > 0` as a term of its own: what lets SQLite use the partial index on changed messages.
        'SELECT * FROM messages WHERE room_id = ? AND rev > ? AND rev > 0 ORDER BY rev ASC LIMIT ?',
      ),
      updateMessage: db.prepare(
        `UPDATE messages SET text = ?, image = ?, edited_at = ?, deleted_at = ?, reactions = ?, reply_to = ?, upload_id = ?, rev = ?
         WHERE id = ?`,
      ),
      bumpRev: db.prepare('UPDATE rooms SET last_rev = ? WHERE id = ?'),
      uploadShown: db.prepare<[string], { one: number }>('SELECT 1 AS one FROM messages WHERE upload_id = ? LIMIT 1'),
      appliedChange: db.prepare<[string, string], { message_id: string }>(
        'SELECT message_id FROM applied_message_changes WHERE user_id = ? AND client_change_id = ?',
      ),
      insertAppliedChange: db.prepare('INSERT INTO applied_message_changes (user_id, client_change_id, message_id) VALUES (?, ?, ?)'),
      messageByClientId: db.prepare<[string, string], MessageRow>('SELECT * FROM messages WHERE sender_id = ? AND client_id = ?'),
      messageBySeq: db.prepare<[string, number], MessageRow>('SELECT * FROM messages WHERE room_id = ? AND seq = ?'),
      newest: db.prepare<[string, number], MessageRow>('SELECT * FROM messages WHERE room_id = ? ORDER BY seq DESC LIMIT ?'),
      before: db.prepare<[string, number, number], MessageRow>(
        'SELECT * FROM messages WHERE room_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?',
      ),
      after: db.prepare<[string, number, number], MessageRow>('SELECT * FROM messages WHERE room_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?'),
      readSeq: db.prepare<[string, string], { read_seq: number }>('SELECT read_seq FROM room_members WHERE room_id = ? AND user_id = ?'),
      setReadSeq: db.prepare('UPDATE room_members SET read_seq = ? WHERE room_id = ? AND user_id = ?'),
      // The rooms are a JSON array of ids, so a page of any size is one statement.
      readSeqs: db.prepare<[string], { room_id: string; user_id: string; read_seq: number }>(
        `SELECT room_id, user_id, read_seq FROM room_members
         WHERE room_id IN (SELECT value FROM json_each(?)) AND read_seq > 0 ORDER BY room_id, position`,
      ),
      ownAfterMine: db.prepare<[string, string], { room_id: string; own: number }>(
        `SELECT m.room_id, (SELECT count(*) FROM messages WHERE room_id = m.room_id AND sender_id = m.user_id AND seq > m.read_seq) AS own
         FROM room_members m WHERE m.user_id = ? AND m.room_id IN (SELECT value FROM json_each(?))`,
      ),
      ownAfter: db.prepare<[string, string, number], { n: number }>(
        'SELECT count(*) AS n FROM messages WHERE room_id = ? AND sender_id = ? AND seq > ?',
      ),
      coMembers: db.prepare<[string, string], { user_id: string }>(
        `SELECT DISTINCT other.user_id FROM room_members mine
         JOIN room_members other ON other.room_id = mine.room_id
         WHERE mine.user_id = ? AND other.user_id != ?`,
      ),
      setLastSeen: db.prepare(
        'INSERT INTO last_seen (user_id, at) SELECT id, ? FROM users WHERE id = ? ON CONFLICT (user_id) DO UPDATE SET at = excluded.at',
      ),
      lastSeen: db.prepare<[string], { at: number }>('SELECT at FROM last_seen WHERE user_id = ?'),
      // The bytes are files (UploadFiles); only the metadata is here.
      insertUpload: db.prepare(
        'INSERT INTO uploads (id, owner_id, url, mime, size, width, height, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      insertUnused: db.prepare('INSERT INTO unused_uploads (upload_id, created_at) VALUES (?, ?)'),
      deleteUnused: db.prepare('DELETE FROM unused_uploads WHERE upload_id = ?'),
      uploadById: db.prepare<[string], UploadRow>('SELECT id, owner_id, url, mime, size, width, height, created_at FROM uploads WHERE id = ?'),
      uploadIds: db.prepare<[], string>('SELECT id FROM uploads').pluck(),
      deleteUpload: db.prepare('DELETE FROM uploads WHERE id = ?'),

      uploadBytesOf: db.prepare<[string], { total: number }>('SELECT coalesce(sum(size), 0) AS total FROM uploads WHERE owner_id = ?'),
      orphans: db.prepare<[number, number], { id: string }>('SELECT upload_id AS id FROM unused_uploads WHERE created_at < ? LIMIT ?'),
      deleteExpiredSessions: db.prepare('DELETE FROM sessions WHERE expires_at <= ?'),
    };
  }

  createUser(user: User, hooks?: WriteHooks): User {
    this.db.transaction(() => {
      if (this.stmt.userByEmail.get(user.email)) throw new ChatError('CONFLICT', 'a user with this email exists');
      this.stmt.insertUser.run(user.id, user.email, user.name, user.name.toLowerCase(), user.createdAt);
      hooks?.beforeCommit?.();
    })();
    return { ...user };
  }

  getUser(id: string): User | undefined {
    const row = this.stmt.userById.get(id);
    return row && toUser(row);
  }

  getUserByEmail(email: string): User | undefined {
    const row = this.stmt.userByEmail.get(email);
    return row && toUser(row);
  }

  getUsersByIds(ids: readonly string[]): User[] {
    return [...new Set(ids)].flatMap((id) => {
      const row = this.stmt.userById.get(id);
      return row ? [toUser(row)] : [];
    });
  }

  searchUsers(prefix: string, after: string | null, limit: number): User[] {
    // instr(x, '') is 1, so an empty prefix matches everyone.
    return this.stmt.searchUsers.all(after ?? '', prefix, prefix, limit).map(toUser);
  }

  createSession(session: Session): void {
    this.stmt.insertSession.run(session.id, session.tokenHash, session.userId, session.createdAt, session.expiresAt);
  }

  getSessionByTokenHash(tokenHash: string): Session | undefined {
    const row = this.stmt.sessionByHash.get(tokenHash);
    return row && { id: row.id, userId: row.user_id, tokenHash: row.token_hash, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  deleteSession(id: string): void {
    this.stmt.deleteSession.run(id);
  }

  deleteExpiredSessions(now: number): number {
    return this.stmt.deleteExpiredSessions.run(now).changes;
  }

  createRoom(input: NewRoom, hooks?: WriteHooks): Room {
    this.members.delete(input.id);
    this.db.transaction(() => {
      const { next } = this.stmt.nextActivity.get()!;
      this.stmt.insertRoom.run(input.id, input.name, input.createdBy, input.createdAt, next);
      input.memberIds.forEach((userId, position) => this.stmt.insertMember.run(input.id, userId, position));
      if (input.clientId !== undefined) this.stmt.insertApplied.run(input.createdBy, 'create_room', input.clientId, input.id);
      hooks?.beforeCommit?.();
    })();
    return this.getRoom(input.id)!;
  }

  findApplied(userId: string, action: AppliedAction, clientId: string): string | undefined {
    return this.stmt.applied.get(userId, action, clientId)?.room_id;
  }

  addMembers(change: MembersChange, hooks?: WriteHooks): Room {
    this.members.delete(change.roomId);
    this.db.transaction(() => {
      if (!this.stmt.roomById.get(change.roomId)) throw new ChatError('NOT_FOUND', 'no such room');
      let { next } = this.stmt.nextPosition.get(change.roomId)!;
      for (const userId of change.userIds) {
        if (this.stmt.isMember.get(change.roomId, userId)) continue;
        this.stmt.insertMember.run(change.roomId, userId, next++);
        this.stmt.insertAdder.run(change.roomId, userId, change.addedBy);
      }
      this.stmt.insertApplied.run(change.addedBy, 'add_members', change.clientId, change.roomId);
      hooks?.beforeCommit?.();
    }).immediate();
    return this.getRoom(change.roomId)!;
  }

  leaveRoom(change: LeaveChange, hooks?: WriteHooks): Room {
    this.members.delete(change.roomId);
    this.db.transaction(() => {
      const room = this.stmt.roomById.get(change.roomId);
      if (!room) throw new ChatError('NOT_FOUND', 'no such room');
      const member = this.stmt.isMember.get(change.roomId, change.userId) !== undefined;
      const adder = member ? (this.stmt.memberAdder.get(change.roomId, change.userId)?.added_by ?? room.created_by) : undefined;
      this.stmt.deleteMember.run(change.roomId, change.userId);
      this.stmt.deleteAdder.run(change.roomId, change.userId);
      if (change.block && adder !== undefined && adder !== change.userId) this.stmt.insertBlock.run(change.userId, adder);
      this.stmt.insertApplied.run(change.userId, 'leave_room', change.clientId, change.roomId);
      hooks?.beforeCommit?.();
    }).immediate();
    return this.getRoom(change.roomId)!;
  }

  blockedBy(userIds: readonly string[], adderId: string): string[] {
    return [...new Set(userIds)].filter((id) => this.stmt.isBlocked.get(id, adderId) !== undefined);
  }

  getUserRoomsPage(userId: string, page: RoomPage): { rooms: Room[]; next: number | null } {
    const rows = this.stmt.userRoomsPage.all(userId, page.before ?? Number.MAX_SAFE_INTEGER, page.limit + 1);
    const taken = rows.slice(0, page.limit);
    const next = rows.length > page.limit ? taken.at(-1)!.activity : null;
    return { rooms: taken.map((row) => this.toRoom(row)), next };
  }

  getRoom(id: string): Room | undefined {
    const row = this.stmt.roomById.get(id);
    return row && this.toRoom(row);
  }

  isMember(roomId: string, userId: string): boolean {
    return this.membersOf(roomId)?.set.has(userId) ?? false;
  }

  getMemberIds(roomId: string): readonly string[] | undefined {
    return this.membersOf(roomId)?.ids;
  }

  /** The room's members, from the cache or read once; undefined when there is no such room. */
  private membersOf(roomId: string): { ids: readonly string[]; set: ReadonlySet<string> } | undefined {
    const cached = this.members.get(roomId);
    if (cached) return cached;
    if (!this.stmt.roomById.get(roomId)) return undefined;
    const ids = Object.freeze(this.stmt.roomMembers.all(roomId).map((m) => m.user_id));
    // Bounded: past this many rooms the cache starts over rather than grow with the database.
    if (this.members.size >= MEMBER_CACHE_ROOMS) this.members.clear();
    const entry = { ids, set: new Set(ids) };
    this.members.set(roomId, entry);
    return entry;
  }

  getUserRooms(userId: string): Room[] {
    return this.stmt.userRooms.all(userId).map((row) => this.toRoom(row));
  }

  createMessage(input: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean } {
    const result = this.orStored(input, () => this.insertMessage.immediate(input, hooks));
    this.checkpointer?.wrote(1);
    return result;
  }

  /**
   * Group commit: the messages in one transaction, each in its own savepoint, in order (a
   * duplicate of an earlier one in the batch is found as such; seqs follow each other). A
   * message whose write fails is rolled back alone and answered with its error; the
   * others commit together. A failing commit throws: then none was written.
   */
  createMessages(batch: ReadonlyArray<{ message: NewMessage; hooks?: WriteHooks | undefined }>): Array<{ ok: true; value: { message: Message; duplicate: boolean } } | { ok: false; error: unknown }> {
    const results = this.db.transaction(() =>
      batch.map(({ message, hooks }) => {
        try {
          return { ok: true as const, value: this.orStored(message, () => this.insertMessage(message, hooks)) };
        } catch (error) {
          return { ok: false as const, error };
        }
      }),
    ).immediate();
    this.checkpointer?.wrote(batch.length);
    return results;
  }

  /** `write`, or, when it found the (sender, clientId) taken (and so was rolled back), the message stored under it. */
  private orStored(input: NewMessage, write: () => { message: Message; duplicate: boolean }): { message: Message; duplicate: boolean } {
    try {
      return write();
    } catch (error) {
      if (error !== DUPLICATE) throw error;
      return { message: this.hydrate([this.stmt.messageByClientId.get(input.senderId, input.clientId)!])[0]!, duplicate: true };
    }
  }

  /**
   * One message's write (see `insertMessage`, which runs it as a transaction or a
   * savepoint): two statements, the room's seq taken, then the row. A duplicate throws
   * `DUPLICATE`, so that the seq it took is rolled back with it.
   */
  private writeMessage(input: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean } {
    const room = this.stmt.takeSeq.get(input.roomId);
    if (!room) throw new ChatError('NOT_FOUND', 'no such room');
    const { seq } = room;
    const { changes } = this.stmt.insertMessage.run(
      input.id, input.roomId, seq, input.senderId, input.clientId, input.text,
      input.image ? JSON.stringify(input.image) : null, input.createdAt,
      input.replyTo ?? null, input.image ? (uploadIdOf(input.image.url) ?? null) : null,
    );
    if (changes === 0) throw DUPLICATE;
    hooks?.beforeCommit?.();
    // A reply's quote is read back; any other message is what was just written.
    if (input.replyTo !== undefined) return { message: this.hydrate([this.stmt.messageById.get(input.id)!])[0]!, duplicate: false };
    const { id, roomId, senderId, clientId, text, image, createdAt } = input;
    return { message: { id, roomId, senderId, clientId, seq, text, image, createdAt }, duplicate: false };
  }

  getMessageByClientId(senderId: string, clientId: string): Message | undefined {
    const row = this.stmt.messageByClientId.get(senderId, clientId);
    return row && this.hydrate([row])[0];
  }

  /** Several `getMessageByClientId` in one read transaction (one take of the WAL's read lock, not one each). */
  getMessagesByClientIds(keys: ReadonlyArray<{ senderId: string; clientId: string }>): Array<Message | undefined> {
    return this.db.transaction(() => keys.map(({ senderId, clientId }) => this.getMessageByClientId(senderId, clientId)))();
  }

  getMessages(roomId: string, page: MessagePage): { messages: Message[]; hasMore: boolean } {
    const take = page.limit + 1; // one more than asked tells whether more exist
    let rows: MessageRow[];
    if (page.after !== undefined) {
      rows = this.stmt.after.all(roomId, page.after, take);
      const hasMore = rows.length > page.limit;
      return { messages: this.hydrate(rows.slice(0, page.limit)), hasMore };
    }
    rows = page.before !== undefined ? this.stmt.before.all(roomId, page.before, take) : this.stmt.newest.all(roomId, take);
    const hasMore = rows.length > page.limit;
    return { messages: this.hydrate(rows.slice(0, page.limit).reverse()), hasMore };
  }

  getMessage(id: string): Message | undefined {
    const row = this.stmt.messageById.get(id);
    return row && this.hydrate([row])[0];
  }

  findAppliedChange(userId: string, clientChangeId: string): string | undefined {
    return this.stmt.appliedChange.get(userId, clientChangeId)?.message_id;
  }

  changeMessage(change: MessageChange, hooks?: WriteHooks): ChangeResult {
    return this.db.transaction((): ChangeResult => {
      const row = this.stmt.messageById.get(change.messageId);
      if (!row) throw new ChatError('NOT_FOUND', 'no such message');
      const applied = this.stmt.appliedChange.get(change.userId, change.clientChangeId);
      if (applied) return { message: this.getMessage(applied.message_id)!, changed: false, duplicate: true };
      const next = planChange(stateOf(row), change);
      if (next) {
        const rev = this.stmt.roomById.get(row.room_id)!.last_rev + 1;
        const deleted = next.deletedAt !== undefined;
        this.stmt.updateMessage.run(
          next.text, next.image ? JSON.stringify(next.image) : null, next.editedAt ?? null, next.deletedAt ?? null,
          next.reactions ? JSON.stringify(next.reactions) : null,
          deleted ? null : row.reply_to, deleted ? null : row.upload_id, rev, row.id,
        );
        this.stmt.bumpRev.run(rev, row.room_id);
      }
      this.stmt.insertAppliedChange.run(change.userId, change.clientChangeId, row.id);
      hooks?.beforeCommit?.();
      const freed = next?.deletedAt !== undefined && row.upload_id !== null && !this.stmt.uploadShown.get(row.upload_id);
      return {
        message: this.getMessage(row.id)!,
        changed: next !== null,
        duplicate: false,
        ...(freed ? { freedUploadId: row.upload_id! } : {}),
      };
    }).immediate();
  }

  /** A range scan of messages(room_id, rev): each changed message once, as it is now. */
  getChanges(roomId: string, afterRev: number, limit: number): { messages: Message[]; hasMore: boolean; lastRev: number } {
    return this.db.transaction(() => {
      const lastRev = this.stmt.roomById.get(roomId)?.last_rev ?? 0;
      const rows = this.stmt.changes.all(roomId, afterRev, limit + 1);
      return { messages: this.hydrate(rows.slice(0, limit)), hasMore: rows.length > limit, lastRev };
    })();
  }

  markRead(roomId: string, userId: string, seq: number, hooks?: WriteHooks): { seq: number; moved: boolean } {
    return this.db.transaction(() => {
      const room = this.stmt.roomById.get(roomId);
      const member = this.stmt.readSeq.get(roomId, userId);
      if (!room || !member) throw new ChatError('FORBIDDEN', 'not a member of this room');
      const next = Math.min(seq, room.last_seq);
      if (next <= member.read_seq) return { seq: member.read_seq, moved: false };
      this.stmt.setReadSeq.run(next, roomId, userId);
      hooks?.beforeCommit?.();
      return { seq: next, moved: true };
    }).immediate();
  }

  getReadStates(userId: string, roomIds: readonly string[]): Map<string, ReadState> {
    const ids = JSON.stringify(roomIds);
    const states = new Map<string, ReadState>();
    for (const row of this.stmt.ownAfterMine.all(userId, ids)) states.set(row.room_id, { readSeqs: {}, ownAfter: row.own });
    for (const row of this.stmt.readSeqs.all(ids)) {
      const state = states.get(row.room_id);
      if (state) state.readSeqs[row.user_id] = row.read_seq;
    }
    return states;
  }

  /** A range count over the covering index messages(room_id, sender_id, seq): O(the user's own messages after `seq`). */
  countOwnAfter(roomId: string, userId: string, seq: number): number {
    return this.stmt.ownAfter.get(roomId, userId, seq)!.n;
  }

  getCoMemberIds(userId: string): string[] {
    return this.stmt.coMembers.all(userId, userId).map((row) => row.user_id);
  }

  setLastSeenAt(userId: string, at: number): void {
    this.stmt.setLastSeen.run(at, userId);
  }

  getLastSeenAt(userIds: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (const id of new Set(userIds)) {
      const row = this.stmt.lastSeen.get(id);
      if (row) found.set(id, row.at);
    }
    return found;
  }

  createUpload(upload: UploadRecord): void {
    this.db.transaction(() => {
      this.stmt.insertUpload.run(
        upload.id, upload.ownerId, upload.url, upload.mime, upload.size,
        upload.width ?? null, upload.height ?? null, upload.createdAt,
      );
      this.stmt.insertUnused.run(upload.id, upload.createdAt);
    })();
  }

  deleteUpload(id: string): void {
    this.db.transaction(() => {
      this.stmt.deleteUnused.run(id);
      this.stmt.deleteUpload.run(id);
    })();
    this.uploadFiles.removeSoon(id);
  }

  getUpload(id: string): UploadRecord | undefined {
    const row = this.stmt.uploadById.get(id);
    return row && toUpload(row);
  }

  uploadIds(): string[] {
    return this.stmt.uploadIds.all();
  }

  markUploadUsed(id: string): void {
    this.stmt.deleteUnused.run(id);
  }

  uploadBytesOf(ownerId: string): number {
    return this.stmt.uploadBytesOf.get(ownerId)!.total;
  }

  deleteOrphanUploads(createdBefore: number, max = Number.MAX_SAFE_INTEGER): number {
    const ids = this.db.transaction(() => {
      const found = this.stmt.orphans.all(createdBefore, max).map((r) => r.id);
      for (const id of found) {
        this.stmt.deleteUnused.run(id);
        this.stmt.deleteUpload.run(id);
      }
      return found;
    })();
    for (const id of ids) this.uploadFiles.removeSoon(id);
    return ids.length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The thread's connection closes first (close waits for it), so this one is the file's
    // last: closing it checkpoints the whole WAL into the file and removes the WAL. Should
    // the thread not answer in time, what is left in the WAL is read by the next open.
    this.checkpointer?.close();
    if (this.db.open) this.db.close();
    this.uploadFiles.close();
  }

  private toRoom(row: RoomRow): Room {
    const last = row.last_seq > 0 ? this.stmt.messageBySeq.get(row.id, row.last_seq) : undefined;
    return {
      id: row.id,
      name: row.name,
      memberIds: [...(this.membersOf(row.id)?.ids ?? [])],
      createdBy: row.created_by,
      createdAt: row.created_at,
      lastSeq: row.last_seq,
      lastMessage: last ? this.hydrate([last])[0]! : null,
      lastRev: row.last_rev,
    };
  }

  /** Rows to messages, with the quotes of the replies among them read in one statement. */
  private hydrate(rows: readonly MessageRow[]): Message[] {
    const parentIds = parentIdsOf(rows);
    const parents = new Map<string, ParentRow>();
    if (parentIds.length > 0) for (const p of this.stmt.parents.all(JSON.stringify(parentIds))) parents.set(p.id, p);
    return withQuotes(rows, parents);
  }
}



