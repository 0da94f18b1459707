import type { DBSchema, IDBPDatabase, IDBPTransaction, StoreNames } from 'idb';
import type { Message, Room } from '../protocol/index.js';
import type { ChangeRow, DraftRow, OutboxRow, ReadRow, SessionRow } from './types.js';

export const DEFAULT_DB_NAME = 'chat-sdk';

/** One row per user: the room list is replaced whole, in the server's order. */
export interface RoomsRow {
  userId: string;
  rooms: Room[];
  savedAt: number;
}

/** One row per (user, room): a page of at most CACHE_MESSAGES_PER_ROOM messages. */
export interface MessagesRow {
  userId: string;
  roomId: string;
  messages: Message[];
  savedAt: number;
}

export interface ChatDB extends DBSchema {
  outgoingMessages: {
    key: string;
    value: OutboxRow;
    indexes: { byUser: string; byUserOrder: [string, number] };
  };
  draftMessages: {
    key: string;
    value: DraftRow;
    indexes: { byUser: string };
  };
  /** Version 2's one session per server; read once by the v3 migration, kept so older tabs still open the database. */
  sessions: { key: string; value: Omit<SessionRow, 'userId'> };
  userSessions: {
    key: [string, string];
    value: SessionRow;
    indexes: { byScope: string };
  };
  rooms: { key: string; value: RoomsRow };
  messages: {
    key: [string, string];
    value: MessagesRow;
    indexes: { byUser: string };
  };
  pendingReads: {
    key: [string, string];
    value: ReadRow;
    indexes: { byUser: string };
  };
  /** Message changes not yet acknowledged (the outbox's change rows), keyed by clientChangeId. */
  pendingChanges: {
    key: string;
    value: ChangeRow;
    indexes: { byUser: string };
  };
  /** Per (user, room): the highest change counter (`rev`) applied to the cached messages. */
  roomRevs: {
    key: [string, string];
    value: RoomRevRow;
    indexes: { byUser: string };
  };
}

export interface RoomRevRow {
  userId: string;
  roomId: string;
  rev: number;
}

export type ChatDatabase = IDBPDatabase<ChatDB>;
type UpgradeTransaction = IDBPTransaction<ChatDB, StoreNames<ChatDB>[], 'versionchange'>;

/**
 * MIGRATIONS[i] takes the database from version i to i + 1. Never edit a shipped step:
 * add one. Each step runs inside the one upgrade transaction, so a browser that skipped
 * versions walks every step in turn and a failure leaves the old version intact.
 */
const MIGRATIONS: ReadonlyArray<(db: ChatDatabase, tx: UpgradeTransaction) => void> = [
  // v1: the outbox and the drafts.
  (db) => {
    const outbox = db.createObjectStore('outgoingMessages', { keyPath: 'clientId' });
    outbox.createIndex('byUser', 'userId');
    const drafts = db.createObjectStore('draftMessages', { keyPath: 'key' });
    drafts.createIndex('byUser', 'userId');
  },
  // v2: FIFO order inside the database, and what a reload offline needs.
  (db, tx) => {
    tx.objectStore('outgoingMessages').createIndex('byUserOrder', ['userId', 'order']);
    db.createObjectStore('sessions', { keyPath: 'scope' });
    db.createObjectStore('rooms', { keyPath: 'userId' });
    const messages = db.createObjectStore('messages', { keyPath: ['userId', 'roomId'] });
    messages.createIndex('byUser', 'userId');
  },
  // v3: one session per user of a server (several people in one browser), the old row moved over.
  (db, tx) => {
    const userSessions = db.createObjectStore('userSessions', { keyPath: ['scope', 'userId'] });
    userSessions.createIndex('byScope', 'scope');
    void tx
      .objectStore('sessions')
      .getAll()
      .then((rows) => Promise.all(rows.map((row) => tx.objectStore('userSessions').put({ ...row, userId: row.user.id }))));
  },
  // Read state: the user's read cursors not yet acknowledged by the server, one per room.
  (db) => {
    db.createObjectStore('pendingReads', { keyPath: ['userId', 'roomId'] }).createIndex('byUser', 'userId');
  },
  // v5, message changes: their outbox rows (FIFO with the message rows by `order`) and each
  // cached room's applied change counter. Only adds stores: every existing row stays.
  (db) => {
    db.createObjectStore('pendingChanges', { keyPath: 'clientChangeId' }).createIndex('byUser', 'userId');
    db.createObjectStore('roomRevs', { keyPath: ['userId', 'roomId'] }).createIndex('byUser', 'userId');
  },
];

export const DB_VERSION = MIGRATIONS.length;

/** The stores this code reads and writes; a newer database must still hold them all. */
export const STORE_NAMES: readonly StoreNames<ChatDB>[] = ['outgoingMessages', 'draftMessages', 'userSessions', 'rooms', 'messages', 'pendingReads', 'pendingChanges', 'roomRevs'];

export function upgrade(db: ChatDatabase, oldVersion: number, newVersion: number, tx: UpgradeTransaction): void {
  for (let version = oldVersion; version < newVersion && version < MIGRATIONS.length; version++) {
    (MIGRATIONS[version] as (typeof MIGRATIONS)[number])(db, tx);
  }
}
