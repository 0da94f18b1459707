import type { Pool } from 'pg';

/**
 * The PostgreSQL schema, step by step, mirroring sqlite.ts's MIGRATIONS so that a change
 * to the storage contract adds a step on both sides. Differences from SQLite, on purpose:
 * - times and counters are BIGINT (milliseconds overflow INTEGER); the pool parses them as numbers;
 * - `email` and `name_lower` are `COLLATE "C"`: byte order, as SQLite and the memory store
 *   compare, so `searchUsers` pages the same whatever collation the cluster was made with;
 * - room activity comes from a SEQUENCE, not `max(activity) + 1`: writers in other
 *   processes would read the same max. A sequence's values are unique and rise; a rolled
 *   back write leaves a gap, which is harmless (activity only orders rooms and pages them);
 * - no `uploads.bytes` column nor parts table: upload bytes are files (`UploadFiles`).
 * Never edit a shipped step: add one.
 */
const SCHEMA_V1 = `
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  email TEXT COLLATE "C" NOT NULL UNIQUE,
  name TEXT NOT NULL,
  name_lower TEXT COLLATE "C" NOT NULL,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  user_id TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE SEQUENCE room_activity;
CREATE TABLE rooms (
  id TEXT PRIMARY KEY,
  name TEXT,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0,
  activity BIGINT NOT NULL
);
CREATE INDEX rooms_activity ON rooms(activity);
CREATE TABLE room_members (
  room_id TEXT NOT NULL REFERENCES rooms(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  position INTEGER NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE INDEX room_members_user ON room_members(user_id);
CREATE TABLE messages (
  id TEXT PRIMARY KEY,
  room_id TEXT NOT NULL REFERENCES rooms(id),
  seq BIGINT NOT NULL,
  sender_id TEXT NOT NULL REFERENCES users(id),
  client_id TEXT NOT NULL,
  text TEXT NOT NULL,
  image TEXT,
  created_at BIGINT NOT NULL,
  UNIQUE (room_id, seq)
);
CREATE UNIQUE INDEX messages_client_id ON messages(sender_id, client_id);
CREATE TABLE uploads (
  id TEXT PRIMARY KEY,
  owner_id TEXT NOT NULL REFERENCES users(id),
  url TEXT NOT NULL,
  mime TEXT NOT NULL,
  size BIGINT NOT NULL,
  width INTEGER,
  height INTEGER,
  created_at BIGINT NOT NULL
);
`;

/** 1.1 membership: who added whom, the idempotency keys of room changes, blocks (sqlite.ts MEMBERSHIP). */
const MEMBERSHIP = `
CREATE TABLE member_adders (
  room_id TEXT NOT NULL,
  user_id TEXT NOT NULL,
  added_by TEXT NOT NULL,
  PRIMARY KEY (room_id, user_id)
);
CREATE TABLE applied_changes (
  user_id TEXT NOT NULL,
  action TEXT NOT NULL,
  client_id TEXT NOT NULL,
  room_id TEXT NOT NULL,
  PRIMARY KEY (user_id, action, client_id)
);
CREATE TABLE member_blocks (
  user_id TEXT NOT NULL,
  blocked_id TEXT NOT NULL,
  PRIMARY KEY (user_id, blocked_id)
);
CREATE INDEX room_members_user_room ON room_members(user_id, room_id);
`;

/** Read state (protocol 10.4): each member's cursor, and the index that counts a member's own messages after it. */
const READ_STATE = `
ALTER TABLE room_members ADD COLUMN read_seq BIGINT NOT NULL DEFAULT 0;
CREATE INDEX messages_room_sender_seq ON messages(room_id, sender_id, seq);
`;

/** Presence (protocol 10.3): when each user was last seen. */
const PRESENCE = `
CREATE TABLE last_seen (
  user_id TEXT PRIMARY KEY REFERENCES users(id),
  at BIGINT NOT NULL
);
`;

/**
 * Uploads as in sqlite.ts's UPLOADS step, without its parts table: this store never kept
 * bytes (they are files, `UploadFiles`, as for the other stores). Unused uploads listed for
 * the orphan sweep, totals by owner, expired sessions by a sweep.
 */
const UPLOADS = `
CREATE TABLE unused_uploads (
  upload_id TEXT PRIMARY KEY,
  created_at BIGINT NOT NULL
);
CREATE INDEX unused_uploads_created ON unused_uploads(created_at);
CREATE INDEX uploads_owner ON uploads(owner_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
`;

/**
 * Message changes (protocol 10.5), as sqlite.ts's MESSAGE_CHANGES: the room's change
 * counter, each message's rev, edit and delete times, reactions (JSON text, so a page of
 * messages reads them with no further query and keeps their order), the message it answers
 * and the upload its image is; the rev index makes get_changes a range scan.
 */
const MESSAGE_CHANGES = `
ALTER TABLE rooms ADD COLUMN last_rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN rev BIGINT NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN edited_at BIGINT;
ALTER TABLE messages ADD COLUMN deleted_at BIGINT;
ALTER TABLE messages ADD COLUMN reactions TEXT;
ALTER TABLE messages ADD COLUMN reply_to TEXT;
ALTER TABLE messages ADD COLUMN upload_id TEXT;
UPDATE messages SET upload_id = substring((image::jsonb)->>'url' from '/uploads/([A-Za-z0-9_-]{1,64})$') WHERE image IS NOT NULL;
CREATE INDEX messages_room_rev ON messages(room_id, rev);
CREATE INDEX messages_upload ON messages(upload_id) WHERE upload_id IS NOT NULL;
CREATE TABLE applied_message_changes (
  user_id TEXT NOT NULL,
  client_change_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (user_id, client_change_id)
);
`;

/** MIGRATIONS[i] takes the database from version i to i + 1. Exported for the tests. */
export const MIGRATIONS: ReadonlyArray<string> = [SCHEMA_V1, MEMBERSHIP, READ_STATE, PRESENCE, UPLOADS, MESSAGE_CHANGES];

/**
 * The key of the transaction-scoped advisory lock every migration step runs under: one
 * constant for this schema, so servers sharing a database queue on it (and only on it).
 */
export const MIGRATION_LOCK_KEY = 0x63686174; // 'chat'

/**
 * Brings the database up to `MIGRATIONS.length`, each step in its own transaction that
 * first takes `pg_advisory_xact_lock(MIGRATION_LOCK_KEY)`, then reads the version: so
 * processes that start at once run each step exactly once, one after another, and a
 * process that waited on the lock reads the version its predecessor committed (under READ
 * COMMITTED each statement sees what committed before it began). The lock goes with the
 * transaction, so a process that dies mid-step releases it and leaves the step undone
 * (PostgreSQL's DDL is transactional). Returns the versions this call applied.
 */
export async function migrate(pool: Pool): Promise<number[]> {
  const applied: number[] = [];
  for (;;) {
    const client = await pool.connect();
    const onError = () => {}; // a connection closed between statements: the next one fails
    client.on('error', onError);
    let done = false;
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      // Created under the lock: two `IF NOT EXISTS` racing could both try to create it.
      await client.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())');
      const { rows } = await client.query<{ at: number }>('SELECT coalesce(max(version), 0)::int AS at FROM schema_migrations');
      const at = rows[0]!.at;
      if (at > MIGRATIONS.length) {
        throw new Error(`this database was written by a newer server (schema ${at}, this server knows ${MIGRATIONS.length})`);
      }
      if (at === MIGRATIONS.length) {
        done = true;
      } else {
        await client.query(MIGRATIONS[at]!);
        await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [at + 1]);
        applied.push(at + 1);
      }
      await client.query('COMMIT');
      client.off('error', onError);
      client.release();
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      client.off('error', onError);
      client.release(true); // its state is unknown: do not hand it out again
      throw error;
    }
    if (done) return applied;
  }
}
