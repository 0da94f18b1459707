import pg from 'pg';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { ChatError, type Message, type Room, type User } from '@chat/sdk/protocol';
import type { AsyncStorage } from '../async-storage.js';
import { planChange } from '../changes.js';
import {
  type MessageRow, type ParentRow, type RoomRow, type SessionRow, type UploadRow, type UserRow,
  parentIdsOf, stateOf, toUpload, toUser, withQuotes,
} from '../rows.js';
import type {
  AppliedAction, ChangeResult, LeaveChange, MembersChange, MessageChange, MessagePage, NewMessage, NewRoom, ReadState, RoomPage, Session,
  UploadRecord, WriteHooks,
} from '../types.js';
import { uploadIdOf } from '../types.js';
import { UploadFiles } from '../upload-files.js';
import { migrate } from './schema.js';

/** A client inside a transaction, or the pool for a single statement. */
type Queryable = Pick<PoolClient, 'query'>;

const INT8_OID = 20;
/**
 * BIGINT columns (times, seqs, counts) come back as numbers, not strings: every value the
 * store keeps is below 2^53 (milliseconds, counters). Set on this store's pool only, not
 * on `pg.types`, so other users of `pg` in the process keep its defaults.
 */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PostgresOptions {
  /** `postgres://user@host:port/db` (CHAT_DB). */
  url: string;
  /** Connections this process keeps at most (default 10). */
  max?: number;
  /** How long a call waits for a connection before it fails with INTERNAL (default 5 s). */
  connectionTimeoutMs?: number;
  /**
   * How long a transaction may sit idle between statements before PostgreSQL ends it
   * (default 30 s): a process stalled mid-write (a pause, a hung hook) then releases the
   * room locks it holds instead of holding every other process's writes to those rooms.
   */
  idleInTransactionTimeoutMs?: number;
  /**
   * Where upload bytes go (`UploadFiles`); default a temporary folder removed at close.
   * Processes on several machines need one folder they all see (see docs/scale-out.md).
   */
  uploadsDir?: string;
}


const ROOM_COLUMNS = 'r.id, r.name, r.created_by, r.created_at, r.last_seq, r.last_rev';

/**
 * The storage contract over PostgreSQL (`pg`), for servers that share one database (issue
 * 16). Each write is one transaction, as in SqliteStorage; what SQLite gets from being the
 * only writer (`BEGIN IMMEDIATE`), this store gets from row locks on the room a write
 * changes, so processes writing at once serialize per room and not globally.
 *
 * Errors: a ChatError thrown by the store (CONFLICT, NOT_FOUND, FORBIDDEN) or by a hook
 * passes as it is; anything else, from a refused connection to a server shutting down
 * mid-transaction, becomes a retryable ChatError INTERNAL with the driver's error as its
 * cause. The transaction is then rolled back, or was never committed, so nothing is half
 * written; if the connection dies during COMMIT the outcome is unknown to the caller, which
 * is why every write the protocol retries carries an idempotency key (clientId).
 *
 * Beyond `Storage`'s contract: a `beforeCommit` hook that returns a Promise is awaited
 * before COMMIT (the tests use this to restart PostgreSQL between a write and its commit).
 *
 * Open with `PostgresStorage.open(...)`, which runs the migrations first.
 */
export class PostgresStorage implements AsyncStorage {
  readonly kind = 'postgres' as const;
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    /** Upload bytes: files, as for the other stores; only the metadata is in PostgreSQL. */
    readonly uploadFiles: UploadFiles,
  ) {}

  /** Connects, migrates the database to this server's schema, and returns the store. */
  static async open(options: PostgresOptions | string): Promise<PostgresStorage> {
    const { url, max = 10, connectionTimeoutMs = 5_000, idleInTransactionTimeoutMs = 30_000, uploadsDir } =
      typeof options === 'string' ? ({ url: options } as PostgresOptions) : options;
    const config: PoolConfig = {
      connectionString: url, max, connectionTimeoutMillis: connectionTimeoutMs, types,
      idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    };
    const pool = new pg.Pool(config);
    // An idle connection that the server closes (a restart, an admin) is reported here;
    // without a listener it would crash the process. The pool drops it and opens another.
    pool.on('error', () => {});
    let files: UploadFiles | undefined;
    try {
      files = new UploadFiles(uploadsDir);
      await migrate(pool);
    } catch (error) {
      files?.close();
      await pool.end().catch(() => {});
      throw toStorageError(error);
    }
    return new PostgresStorage(pool, files);
  }

  // users

  async createUser(user: User, hooks?: WriteHooks): Promise<User> {
    await this.tx(async (q) => {
      const taken = await q.query('SELECT 1 FROM users WHERE email = $1', [user.email]);
      if (taken.rowCount) throw new ChatError('CONFLICT', 'a user with this email exists');
      // Two processes may both pass the check: the UNIQUE index decides (23505 below).
      await q.query('INSERT INTO users (id, email, name, name_lower, created_at) VALUES ($1, $2, $3, $4, $5)', [
        user.id, user.email, user.name, user.name.toLowerCase(), user.createdAt,
      ]);
      await hooks?.beforeCommit?.();
    }, (error) => (isUniqueViolation(error, 'users_email_key') ? new ChatError('CONFLICT', 'a user with this email exists') : undefined));
    return { ...user };
  }

  async getUser(id: string): Promise<User | undefined> {
    const rows = await this.rows<UserRow>('SELECT id, email, name, created_at FROM users WHERE id = $1', [id]);
    return rows[0] && toUser(rows[0]);
  }

  async getUserByEmail(email: string): Promise<User | undefined> {
    const rows = await this.rows<UserRow>('SELECT id, email, name, created_at FROM users WHERE email = $1', [email]);
    return rows[0] && toUser(rows[0]);
  }

  async getUsersByIds(ids: readonly string[]): Promise<User[]> {
    const unique = [...new Set(ids)];
    const rows = await this.rows<UserRow>('SELECT id, email, name, created_at FROM users WHERE id = ANY($1::text[])', [unique]);
    const byId = new Map(rows.map((row) => [row.id, toUser(row)]));
    return unique.flatMap((id) => (byId.has(id) ? [byId.get(id)!] : [])); // in the order asked, as the others
  }

  async searchUsers(prefix: string, after: string | null, limit: number): Promise<User[]> {
    // starts_with, not LIKE: '%' and '_' in a prefix are letters. starts_with(x, '') is true.
    const rows = await this.rows<UserRow>(
      `SELECT id, email, name, created_at FROM users
       WHERE email > $1 AND (email = $2 OR starts_with(name_lower, $2))
       ORDER BY email LIMIT $3`,
      [after ?? '', prefix, limit],
    );
    return rows.map(toUser);
  }

  // sessions

  async createSession(session: Session): Promise<void> {
    await this.run('INSERT INTO sessions (id, token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)', [
      session.id, session.tokenHash, session.userId, session.createdAt, session.expiresAt,
    ]);
  }

  async getSessionByTokenHash(tokenHash: string): Promise<Session | undefined> {
    const [row] = await this.rows<SessionRow>('SELECT * FROM sessions WHERE token_hash = $1', [tokenHash]);
    return row && { id: row.id, userId: row.user_id, tokenHash: row.token_hash, createdAt: row.created_at, expiresAt: row.expires_at };
  }

  async deleteSession(id: string): Promise<void> {
    await this.run('DELETE FROM sessions WHERE id = $1', [id]);
  }

  async deleteExpiredSessions(now: number): Promise<number> {
    return (await this.run('DELETE FROM sessions WHERE expires_at <= $1', [now])).rowCount ?? 0;
  }

  // rooms

  async createRoom(input: NewRoom, hooks?: WriteHooks): Promise<Room> {
    return this.tx(async (q) => {
      await q.query("INSERT INTO rooms (id, name, created_by, created_at, last_seq, activity) VALUES ($1, $2, $3, $4, 0, nextval('room_activity'))", [
        input.id, input.name, input.createdBy, input.createdAt,
      ]);
      await q.query(
        'INSERT INTO room_members (room_id, user_id, position) SELECT $1, user_id, position - 1 FROM unnest($2::text[]) WITH ORDINALITY AS m(user_id, position)',
        [input.id, input.memberIds],
      );
      // The same key through two processes at once: the second loses at the primary key of
      // applied_changes (a retryable INTERNAL, its room rolled back), and its retry finds
      // the first's room with findApplied, as any repeat of create_room does.
      if (input.clientId !== undefined) {
        await q.query("INSERT INTO applied_changes (user_id, action, client_id, room_id) VALUES ($1, 'create_room', $2, $3)", [
          input.createdBy, input.clientId, input.id,
        ]);
      }
      await hooks?.beforeCommit?.();
      return (await this.roomsOf(q, await this.roomRows(q, [input.id])))[0]!;
    });
  }

  // Rooms are read in one snapshot (rows, members, last messages), so a room is never
  // shown with members or a last message from a different moment than its own row.

  async getRoom(id: string): Promise<Room | undefined> {
    return this.snapshot(async (q) => (await this.roomsOf(q, await this.roomRows(q, [id])))[0]);
  }

  async getMemberIds(roomId: string): Promise<readonly string[] | undefined> {
    const rows = await this.rows<{ user_id: string | null }>(
      'SELECT m.user_id FROM rooms r LEFT JOIN room_members m ON m.room_id = r.id WHERE r.id = $1 ORDER BY m.position',
      [roomId],
    );
    if (rows.length === 0) return undefined;
    return rows.flatMap((row) => (row.user_id === null ? [] : [row.user_id]));
  }

  async isMember(roomId: string, userId: string): Promise<boolean> {
    return (await this.rows('SELECT 1 FROM room_members WHERE room_id = $1 AND user_id = $2', [roomId, userId])).length > 0;
  }

  async getUserRooms(userId: string): Promise<Room[]> {
    return this.snapshot(async (q) => {
      const { rows } = await q.query<RoomRow>(
        `SELECT ${ROOM_COLUMNS} FROM rooms r JOIN room_members m ON m.room_id = r.id WHERE m.user_id = $1 ORDER BY r.activity DESC`,
        [userId],
      );
      return this.roomsOf(q, rows);
    });
  }

  async getUserRoomsPage(userId: string, page: RoomPage): Promise<{ rooms: Room[]; next: number | null }> {
    return this.snapshot(async (q) => {
      const { rows } = await q.query<RoomRow & { activity: number }>(
        `SELECT ${ROOM_COLUMNS}, r.activity FROM rooms r JOIN room_members m ON m.room_id = r.id
         WHERE m.user_id = $1 AND r.activity < $2 ORDER BY r.activity DESC LIMIT $3`,
        [userId, page.before ?? Number.MAX_SAFE_INTEGER, page.limit + 1],
      );
      const taken = rows.slice(0, page.limit);
      const next = rows.length > page.limit ? taken.at(-1)!.activity : null;
      return { rooms: await this.roomsOf(q, taken), next };
    });
  }

  async findApplied(userId: string, action: AppliedAction, clientId: string): Promise<string | undefined> {
    const [row] = await this.rows<{ room_id: string }>(
      'SELECT room_id FROM applied_changes WHERE user_id = $1 AND action = $2 AND client_id = $3',
      [userId, action, clientId],
    );
    return row?.room_id;
  }

  async addMembers(change: MembersChange, hooks?: WriteHooks): Promise<Room> {
    return this.tx(async (q) => {
      // The room's row lock orders membership changes of one room across processes, as
      // SQLite's BEGIN IMMEDIATE does within one: the next position is read under it.
      if (!(await this.lockRoom(q, change.roomId))) throw new ChatError('NOT_FOUND', 'no such room');
      const [{ next }] = (await q.query<{ next: number }>(
        'SELECT coalesce(max(position), -1) + 1 AS next FROM room_members WHERE room_id = $1', [change.roomId],
      )).rows as [{ next: number }];
      let position = next;
      for (const userId of change.userIds) {
        const added = await q.query(
          'INSERT INTO room_members (room_id, user_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [change.roomId, userId, position],
        );
        if (!added.rowCount) continue; // already a member
        position++;
        await q.query(
          `INSERT INTO member_adders (room_id, user_id, added_by) VALUES ($1, $2, $3)
           ON CONFLICT (room_id, user_id) DO UPDATE SET added_by = excluded.added_by`,
          [change.roomId, userId, change.addedBy],
        );
      }
      // A repeat of the key from another process (both passed findApplied) has, under the
      // same room lock, found every member in already: applying it twice is applying it once.
      await q.query(
        "INSERT INTO applied_changes (user_id, action, client_id, room_id) VALUES ($1, 'add_members', $2, $3) ON CONFLICT DO NOTHING",
        [change.addedBy, change.clientId, change.roomId],
      );
      await hooks?.beforeCommit?.();
      return (await this.roomsOf(q, await this.roomRows(q, [change.roomId])))[0]!;
    });
  }

  async leaveRoom(change: LeaveChange, hooks?: WriteHooks): Promise<Room> {
    return this.tx(async (q) => {
      const room = await this.lockRoom(q, change.roomId);
      if (!room) throw new ChatError('NOT_FOUND', 'no such room');
      const left = await q.query('DELETE FROM room_members WHERE room_id = $1 AND user_id = $2', [change.roomId, change.userId]);
      const adders = await q.query<{ added_by: string }>(
        'DELETE FROM member_adders WHERE room_id = $1 AND user_id = $2 RETURNING added_by', [change.roomId, change.userId],
      );
      // No adder row: the creator added them (with the room).
      const adder = left.rowCount ? (adders.rows[0]?.added_by ?? room.created_by) : undefined;
      if (change.block && adder !== undefined && adder !== change.userId) {
        await q.query('INSERT INTO member_blocks (user_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [change.userId, adder]);
      }
      // A repeat from another process found them gone already: nothing more to do (see addMembers).
      await q.query(
        "INSERT INTO applied_changes (user_id, action, client_id, room_id) VALUES ($1, 'leave_room', $2, $3) ON CONFLICT DO NOTHING",
        [change.userId, change.clientId, change.roomId],
      );
      await hooks?.beforeCommit?.();
      return (await this.roomsOf(q, await this.roomRows(q, [change.roomId])))[0]!;
    });
  }

  async blockedBy(userIds: readonly string[], adderId: string): Promise<string[]> {
    const unique = [...new Set(userIds)];
    const rows = await this.rows<{ user_id: string }>(
      'SELECT user_id FROM member_blocks WHERE user_id = ANY($1::text[]) AND blocked_id = $2', [unique, adderId],
    );
    const blocked = new Set(rows.map((row) => row.user_id));
    return unique.filter((id) => blocked.has(id));
  }

  // messages

  async createMessage(input: NewMessage, hooks?: WriteHooks): Promise<{ message: Message; duplicate: boolean }> {
    const created = await this.tx(async (q) => {
      const existing = await q.query<MessageRow>('SELECT * FROM messages WHERE sender_id = $1 AND client_id = $2', [input.senderId, input.clientId]);
      if (existing.rows[0]) return { message: (await hydrate(q, existing.rows))[0]!, duplicate: true };
      // Why seq stays gapless with writers in many processes: this UPDATE takes the room's
      // row lock and holds it to COMMIT or ROLLBACK, so writers to one room go one at a time.
      // One that waited re-reads the row as committed by the one before it (READ COMMITTED
      // re-checks an updated row after the wait), so `last_seq + 1` is always the next
      // number, and a write that rolls back releases the lock with last_seq as it was: no
      // seq is ever taken and then lost, as a SEQUENCE's would be.
      const bumped = await q.query<{ last_seq: number }>(
        "UPDATE rooms SET last_seq = last_seq + 1, activity = nextval('room_activity') WHERE id = $1 RETURNING last_seq",
        [input.roomId],
      );
      const seq = bumped.rows[0]?.last_seq;
      if (seq === undefined) throw new ChatError('NOT_FOUND', 'no such room');
      // The same (sender, clientId) sent through another process at once: its INSERT waits
      // on ours (or ours on its) at the unique index; the later one inserts nothing, and
      // this transaction rolls back (undoing its seq) and returns the stored message.
      const inserted = await q.query<MessageRow>(
        `INSERT INTO messages (id, room_id, seq, sender_id, client_id, text, image, created_at, reply_to, upload_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (sender_id, client_id) DO NOTHING RETURNING *`,
        [
          input.id, input.roomId, seq, input.senderId, input.clientId, input.text, input.image ? JSON.stringify(input.image) : null, input.createdAt,
          input.replyTo ?? null, input.image ? (uploadIdOf(input.image.url) ?? null) : null,
        ],
      );
      if (!inserted.rows[0]) return 'raced' as const;
      await hooks?.beforeCommit?.();
      return { message: (await hydrate(q, inserted.rows))[0]!, duplicate: false };
    }, undefined, (result) => result === 'raced');
    if (created !== 'raced') return created;
    const stored = await this.getMessageByClientId(input.senderId, input.clientId);
    if (!stored) throw new ChatError('INTERNAL', 'a message that raced this one is gone', { retryable: true });
    return { message: stored, duplicate: true };
  }

  async getMessageByClientId(senderId: string, clientId: string): Promise<Message | undefined> {
    const rows = await this.rows<MessageRow>('SELECT * FROM messages WHERE sender_id = $1 AND client_id = $2', [senderId, clientId]);
    return (await this.hydrate(rows))[0];
  }

  async getMessages(roomId: string, page: MessagePage): Promise<{ messages: Message[]; hasMore: boolean }> {
    const take = page.limit + 1; // one more than asked tells whether more exist
    if (page.after !== undefined) {
      const rows = await this.rows<MessageRow>('SELECT * FROM messages WHERE room_id = $1 AND seq > $2 ORDER BY seq ASC LIMIT $3', [roomId, page.after, take]);
      return { messages: await this.hydrate(rows.slice(0, page.limit)), hasMore: rows.length > page.limit };
    }
    const rows = page.before !== undefined
      ? await this.rows<MessageRow>('SELECT * FROM messages WHERE room_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3', [roomId, page.before, take])
      : await this.rows<MessageRow>('SELECT * FROM messages WHERE room_id = $1 ORDER BY seq DESC LIMIT $2', [roomId, take]);
    return { messages: await this.hydrate(rows.slice(0, page.limit).reverse()), hasMore: rows.length > page.limit };
  }

  // message changes (protocol 10.5)

  async getMessage(id: string): Promise<Message | undefined> {
    return (await this.hydrate(await this.rows<MessageRow>('SELECT * FROM messages WHERE id = $1', [id])))[0];
  }

  async findAppliedChange(userId: string, clientChangeId: string): Promise<string | undefined> {
    const [row] = await this.rows<{ message_id: string }>(
      'SELECT message_id FROM applied_message_changes WHERE user_id = $1 AND client_change_id = $2', [userId, clientChangeId],
    );
    return row?.message_id;
  }

  async changeMessage(change: MessageChange, hooks?: WriteHooks): Promise<ChangeResult> {
    const result = await this.tx(async (q): Promise<ChangeResult | 'raced'> => {
      // The message's row lock: two processes changing one message (two reactions at once)
      // plan each change on the message as the one before left it, so none is lost. Locks
      // are taken message first, then room (below); nothing takes them the other way round.
      const { rows } = await q.query<MessageRow>('SELECT * FROM messages WHERE id = $1 FOR UPDATE', [change.messageId]);
      const row = rows[0];
      if (!row) throw new ChatError('NOT_FOUND', 'no such message');
      const applied = await q.query<{ message_id: string }>(
        'SELECT message_id FROM applied_message_changes WHERE user_id = $1 AND client_change_id = $2', [change.userId, change.clientChangeId],
      );
      if (applied.rows[0]) return { message: (await this.messagesById(q, [applied.rows[0].message_id]))[0]!, changed: false, duplicate: true };
      const next = planChange(stateOf(row), change);
      if (next) {
        // The room's rev as its seq: the row lock makes revs per room gapless and in commit order.
        const bumped = await q.query<{ last_rev: number }>('UPDATE rooms SET last_rev = last_rev + 1 WHERE id = $1 RETURNING last_rev', [row.room_id]);
        const deleted = next.deletedAt !== undefined;
        await q.query(
          `UPDATE messages SET text = $1, image = $2, edited_at = $3, deleted_at = $4, reactions = $5, reply_to = $6, upload_id = $7, rev = $8
           WHERE id = $9`,
          [
            next.text, next.image ? JSON.stringify(next.image) : null, next.editedAt ?? null, next.deletedAt ?? null,
            next.reactions ? JSON.stringify(next.reactions) : null,
            deleted ? null : row.reply_to, deleted ? null : row.upload_id, bumped.rows[0]!.last_rev, row.id,
          ],
        );
      }
      // The same key through another process, committed since the look above: this one rolls back.
      const recorded = await q.query(
        'INSERT INTO applied_message_changes (user_id, client_change_id, message_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [change.userId, change.clientChangeId, row.id],
      );
      if (!recorded.rowCount) return 'raced';
      await hooks?.beforeCommit?.();
      const freed = next?.deletedAt !== undefined && row.upload_id !== null
        && (await q.query('SELECT 1 FROM messages WHERE upload_id = $1 LIMIT 1', [row.upload_id])).rowCount === 0;
      return {
        message: (await this.messagesById(q, [row.id]))[0]!,
        changed: next !== null,
        duplicate: false,
        ...(freed ? { freedUploadId: row.upload_id! } : {}),
      };
    }, undefined, (outcome) => outcome === 'raced');
    if (result !== 'raced') return result;
    const id = await this.findAppliedChange(change.userId, change.clientChangeId);
    const message = id === undefined ? undefined : await this.getMessage(id);
    if (!message) throw new ChatError('INTERNAL', 'a change that raced this one is gone', { retryable: true });
    return { message, changed: false, duplicate: true };
  }

  async getChanges(roomId: string, afterRev: number, limit: number): Promise<{ messages: Message[]; hasMore: boolean; lastRev: number }> {
    // One snapshot: the rows and lastRev agree.
    return this.snapshot(async (q) => {
      const room = await q.query<{ last_rev: number }>('SELECT last_rev FROM rooms WHERE id = $1', [roomId]);
      const { rows } = await q.query<MessageRow>('SELECT * FROM messages WHERE room_id = $1 AND rev > $2 ORDER BY rev ASC LIMIT $3', [roomId, afterRev, limit + 1]);
      return { messages: await hydrate(q, rows.slice(0, limit)), hasMore: rows.length > limit, lastRev: room.rows[0]?.last_rev ?? 0 };
    });
  }

  // read state

  async markRead(roomId: string, userId: string, seq: number, hooks?: WriteHooks): Promise<{ seq: number; moved: boolean }> {
    return this.tx(async (q) => {
      // The member's row lock: two devices of one user marking at once move the cursor in turn.
      const { rows } = await q.query<{ read_seq: number; last_seq: number }>(
        `SELECT m.read_seq, r.last_seq FROM room_members m JOIN rooms r ON r.id = m.room_id
         WHERE m.room_id = $1 AND m.user_id = $2 FOR UPDATE OF m`,
        [roomId, userId],
      );
      const member = rows[0];
      if (!member) throw new ChatError('FORBIDDEN', 'not a member of this room');
      const next = Math.min(seq, member.last_seq);
      if (next <= member.read_seq) return { seq: member.read_seq, moved: false };
      await q.query('UPDATE room_members SET read_seq = $1 WHERE room_id = $2 AND user_id = $3', [next, roomId, userId]);
      await hooks?.beforeCommit?.();
      return { seq: next, moved: true };
    });
  }

  async getReadStates(userId: string, roomIds: readonly string[]): Promise<Map<string, ReadState>> {
    const ids = [...roomIds];
    // One snapshot for both queries, as SQLite's reads between writes see one.
    return this.snapshot(async (q) => {
      const states = new Map<string, ReadState>();
      const own = await q.query<{ room_id: string; own: number }>(
        `SELECT m.room_id, (SELECT count(*) FROM messages WHERE room_id = m.room_id AND sender_id = m.user_id AND seq > m.read_seq) AS own
         FROM room_members m WHERE m.user_id = $1 AND m.room_id = ANY($2::text[])`,
        [userId, ids],
      );
      for (const row of own.rows) states.set(row.room_id, { readSeqs: {}, ownAfter: row.own });
      const cursors = await q.query<{ room_id: string; user_id: string; read_seq: number }>(
        'SELECT room_id, user_id, read_seq FROM room_members WHERE room_id = ANY($1::text[]) AND read_seq > 0 ORDER BY room_id, position',
        [ids],
      );
      for (const row of cursors.rows) {
        const state = states.get(row.room_id);
        if (state) state.readSeqs[row.user_id] = row.read_seq;
      }
      return states;
    });
  }

  async countOwnAfter(roomId: string, userId: string, seq: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>('SELECT count(*) AS n FROM messages WHERE room_id = $1 AND sender_id = $2 AND seq > $3', [roomId, userId, seq]);
    return row!.n;
  }

  async getCoMemberIds(userId: string): Promise<string[]> {
    const rows = await this.rows<{ user_id: string }>(
      `SELECT DISTINCT other.user_id FROM room_members mine
       JOIN room_members other ON other.room_id = mine.room_id
       WHERE mine.user_id = $1 AND other.user_id != $1`,
      [userId],
    );
    return rows.map((row) => row.user_id);
  }

  // presence

  async setLastSeenAt(userId: string, at: number): Promise<void> {
    await this.run(
      'INSERT INTO last_seen (user_id, at) SELECT id, $1 FROM users WHERE id = $2 ON CONFLICT (user_id) DO UPDATE SET at = excluded.at',
      [at, userId],
    );
  }

  async getLastSeenAt(userIds: readonly string[]): Promise<Map<string, number>> {
    const rows = await this.rows<{ user_id: string; at: number }>('SELECT user_id, at FROM last_seen WHERE user_id = ANY($1::text[])', [[...new Set(userIds)]]);
    return new Map(rows.map((row) => [row.user_id, row.at]));
  }

  // uploads: the metadata here, the bytes in files (`uploadFiles`), as for the other stores.

  async createUpload(upload: UploadRecord): Promise<void> {
    await this.tx(async (q) => {
      await q.query('INSERT INTO uploads (id, owner_id, url, mime, size, width, height, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        upload.id, upload.ownerId, upload.url, upload.mime, upload.size, upload.width ?? null, upload.height ?? null, upload.createdAt,
      ]);
      await q.query('INSERT INTO unused_uploads (upload_id, created_at) VALUES ($1, $2)', [upload.id, upload.createdAt]);
    });
  }

  /** The record goes in a transaction; the file after it commits, in the background. */
  async deleteUpload(id: string): Promise<void> {
    await this.tx((q) => deleteUploadRows(q, [id]));
    this.uploadFiles.removeSoon(id);
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const [row] = await this.rows<UploadRow>('SELECT id, owner_id, url, mime, size, width, height, created_at FROM uploads WHERE id = $1', [id]);
    return row && toUpload(row);
  }

  async uploadIds(): Promise<string[]> {
    return (await this.rows<{ id: string }>('SELECT id FROM uploads', [])).map((row) => row.id);
  }

  async markUploadUsed(id: string): Promise<void> {
    await this.run('DELETE FROM unused_uploads WHERE upload_id = $1', [id]);
  }

  async uploadBytesOf(ownerId: string): Promise<number> {
    const [row] = await this.rows<{ total: number }>('SELECT coalesce(sum(size), 0)::bigint AS total FROM uploads WHERE owner_id = $1', [ownerId]);
    return row!.total;
  }

  async deleteOrphanUploads(createdBefore: number, max = Number.MAX_SAFE_INTEGER): Promise<number> {
    const ids = await this.tx(async (q) => {
      // SKIP LOCKED: two processes sweeping at once take different orphans instead of queuing.
      const { rows } = await q.query<{ id: string }>(
        'SELECT upload_id AS id FROM unused_uploads WHERE created_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED', [createdBefore, max],
      );
      const found = rows.map((row) => row.id);
      await deleteUploadRows(q, found);
      return found;
    });
    for (const id of ids) this.uploadFiles.removeSoon(id); // once the records are gone for good
    return ids.length;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.uploadFiles.close();
    await this.pool.end();
  }

  // helpers

  private async rows<T extends object = Record<string, unknown>>(text: string, values: unknown[]): Promise<T[]> {
    return (await this.run<T>(text, values)).rows;
  }

  /** One statement on a pooled connection (its own transaction). */
  private async run<T extends object = Record<string, unknown>>(text: string, values: unknown[]): Promise<pg.QueryResult<T>> {
    try {
      return await this.pool.query<T>(text, values);
    } catch (error) {
      throw toStorageError(error);
    }
  }

  /**
   * `fn` in one transaction on one connection: COMMIT when it returns (ROLLBACK instead
   * when `rollbackIf` holds for its result), ROLLBACK when it throws. `mapError` may turn a
   * driver error into a ChatError first (a unique index that decided a race).
   */
  private async tx<T>(
    fn: (q: Queryable) => Promise<T>,
    mapError?: (error: unknown) => ChatError | undefined,
    rollbackIf?: (result: T) => boolean,
    begin = 'BEGIN',
  ): Promise<T> {
    let client: PoolClient;
    try {
      client = await this.pool.connect();
    } catch (error) {
      throw toStorageError(error);
    }
    let broken = false;
    // Between statements the connection may be closed under us (a restart, an admin):
    // pg reports that as an 'error' event, which with no listener would crash the process.
    // The next statement then fails, and the transaction with it.
    const onError = () => {
      broken = true;
    };
    client.on('error', onError);
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query(rollbackIf?.(result) ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true; // the connection is gone: ROLLBACK cannot be sent, and the server rolled back already
      });
      throw mapError?.(error) ?? toStorageError(error);
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  private async hydrate(rows: MessageRow[]): Promise<Message[]> {
    try {
      return await hydrate(this.pool, rows);
    } catch (error) {
      throw toStorageError(error);
    }
  }

  private async messagesById(q: Queryable, ids: string[]): Promise<Message[]> {
    const { rows } = await q.query<MessageRow>('SELECT * FROM messages WHERE id = ANY($1::text[])', [ids]);
    return hydrate(q, rows);
  }

  /** Reads in one snapshot (a read-only REPEATABLE READ transaction): what they see is one moment's state. */
  private snapshot<T>(fn: (q: Queryable) => Promise<T>): Promise<T> {
    return this.tx(fn, undefined, undefined, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  }

  /** Takes the room's row lock until the transaction ends; undefined: no such room. */
  private async lockRoom(q: Queryable, roomId: string): Promise<RoomRow | undefined> {
    const { rows } = await q.query<RoomRow>('SELECT id, name, created_by, created_at, last_seq, last_rev FROM rooms WHERE id = $1 FOR UPDATE', [roomId]);
    return rows[0];
  }

  private async roomRows(q: Queryable, ids: string[]): Promise<RoomRow[]> {
    const { rows } = await q.query<RoomRow>(`SELECT ${ROOM_COLUMNS} FROM rooms r WHERE r.id = ANY($1::text[])`, [ids]);
    return rows;
  }

  /** Rooms with their members and last messages: two queries for any number of rooms. */
  private async roomsOf(q: Queryable, rows: RoomRow[]): Promise<Room[]> {
    if (rows.length === 0) return [];
    try {
      const ids = rows.map((row) => row.id);
      const members = await q.query<{ room_id: string; user_id: string }>(
        'SELECT room_id, user_id FROM room_members WHERE room_id = ANY($1::text[]) ORDER BY room_id, position', [ids],
      );
      const withLast = rows.filter((row) => row.last_seq > 0);
      const last = await q.query<MessageRow>(
        'SELECT m.* FROM messages m JOIN unnest($1::text[], $2::bigint[]) AS l(room_id, seq) ON m.room_id = l.room_id AND m.seq = l.seq',
        [withLast.map((row) => row.id), withLast.map((row) => row.last_seq)],
      );
      const memberIds = new Map<string, string[]>(ids.map((id) => [id, []]));
      for (const member of members.rows) memberIds.get(member.room_id)!.push(member.user_id);
      const lastMessages = new Map((await hydrate(q, last.rows)).map((message) => [message.roomId, message]));
      return rows.map((row) => ({
        id: row.id,
        name: row.name,
        memberIds: memberIds.get(row.id)!,
        createdBy: row.created_by,
        createdAt: row.created_at,
        lastSeq: row.last_seq,
        lastMessage: lastMessages.get(row.id) ?? null,
        lastRev: row.last_rev,
      }));
    } catch (error) {
      throw toStorageError(error);
    }
  }
}

/** Rows to messages, with the quotes of the replies among them read in one statement. */
async function hydrate(q: Queryable, rows: readonly MessageRow[]): Promise<Message[]> {
  const parentIds = parentIdsOf(rows);
  const parents = new Map<string, ParentRow>();
  if (parentIds.length > 0) {
    const found = await q.query<ParentRow>('SELECT id, sender_id, text, deleted_at FROM messages WHERE id = ANY($1::text[])', [parentIds]);
    for (const parent of found.rows) parents.set(parent.id, parent);
  }
  return withQuotes(rows, parents);
}


async function deleteUploadRows(q: Queryable, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await q.query('DELETE FROM unused_uploads WHERE upload_id = ANY($1::text[])', [ids]);
  await q.query('DELETE FROM uploads WHERE id = ANY($1::text[])', [ids]);
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  const e = error as { code?: unknown; constraint?: unknown };
  return e?.code === '23505' && e.constraint === constraint;
}

/**
 * A ChatError passes as it is; anything else the driver or server raised (a refused or
 * dropped connection, a server shutting down, a deadlock, a constraint the contract does
 * not name) is a retryable INTERNAL: the write did not commit, and a retry with the same
 * idempotency key is safe.
 */
export function toStorageError(error: unknown): ChatError {
  if (error instanceof ChatError) return error;
  const e = error as { message?: unknown; code?: unknown };
  const detail = typeof e?.message === 'string' ? e.message : String(error);
  const code = typeof e?.code === 'string' ? ` (${e.code})` : '';
  return new ChatError('INTERNAL', `storage unavailable: ${detail}${code}`, { retryable: true, cause: error });
}


