import type { Message, Room } from '../protocol/index.js';
import type { SessionRow } from './types.js';

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

/**
 * The object stores (keyPath; indexes): outgoingMessages (clientId; byUser, byUserOrder
 * [userId, order]), draftMessages (key; byUser), sessions (version 2's one session per server,
 * read once by the v3 migration, kept so older tabs still open the database), userSessions
 * ([scope, userId]; byScope), rooms (userId), messages ([userId, roomId]; byUser), pendingReads
 * ([userId, roomId]; byUser), pendingChanges (the outbox's change rows, clientChangeId; byUser),
 * roomRevs (per user and room the highest change counter applied to the cached messages,
 * [userId, roomId]; byUser).
 */
export type StoreName =
  | 'outgoingMessages'
  | 'draftMessages'
  | 'sessions'
  | 'userSessions'
  | 'rooms'
  | 'messages'
  | 'pendingReads'
  | 'pendingChanges'
  | 'roomRevs';

export interface RoomRevRow {
  userId: string;
  roomId: string;
  rev: number;
}

export type ChatDatabase = IDBDatabase;

/**
 * MIGRATIONS[i] takes the database from version i to i + 1. Never edit a shipped step:
 * add one. Each step runs inside the one upgrade transaction, so a browser that skipped
 * versions walks every step in turn and a failure leaves the old version intact.
 */
const MIGRATIONS: ReadonlyArray<(db: ChatDatabase, tx: IDBTransaction) => void> = [
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
    const old = tx.objectStore('sessions').getAll();
    old.onsuccess = () => {
      for (const row of old.result as Omit<SessionRow, 'userId'>[]) userSessions.put({ ...row, userId: row.user.id });
    };
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
export const STORE_NAMES: readonly StoreName[] = ['outgoingMessages', 'draftMessages', 'userSessions', 'rooms', 'messages', 'pendingReads', 'pendingChanges', 'roomRevs'];

export function upgrade(db: ChatDatabase, oldVersion: number, newVersion: number, tx: IDBTransaction): void {
  for (let version = oldVersion; version < newVersion && version < MIGRATIONS.length; version++) {
    (MIGRATIONS[version] as (typeof MIGRATIONS)[number])(db, tx);
  }
}
