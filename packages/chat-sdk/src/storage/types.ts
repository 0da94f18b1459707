import type { ChatErrorData, Image, Message, ReplyQuote, Room, User } from '../protocol/index.js';

/** A room's cached history keeps this many of its newest messages (enough for a reload offline). */
export const CACHE_MESSAGES_PER_ROOM = 100;

/** A message waiting to go out, written before anything goes on the wire. */
export interface OutboxRow {
  clientId: string;
  userId: string;
  roomId: string;
  text: string;
  image: Blob | null;
  /** Set once the image is uploaded, so a retry does not upload it again. */
  uploadedImage: Image | null;
  createdAt: number;
  /** Monotonic FIFO key: the order the user sent in. */
  order: number;
  attempts: number;
  lastError: ChatErrorData | null;
  status: 'pending' | 'failed';
  /**
   * A reply (protocol 10.5): the parent's server id once known (a parent still in the
   * outbox gets it when it is sent), its (sender, clientId), and the quote shown meanwhile.
   */
  replyTo?: ReplyRef;
  /** Failed because the message it depends on (its reply parent) failed: retried with it. */
  blockedBy?: string;
}

/** The parent of a reply as the outbox keeps it. */
export interface ReplyRef {
  id: string | null;
  clientId: string;
  senderId: string;
  quote: ReplyQuote;
}

/** An edit, a delete or a reaction (protocol 10.5), as the outbox keeps it. */
export type ChangeOp = { kind: 'edit'; text: string } | { kind: 'delete' } | { kind: 'react'; emoji: string; on: boolean };

/**
 * A change to a message waiting to go out (the outbox's second kind of row, store
 * `pendingChanges`). It shares the `order` of the message rows, so a room's changes and
 * messages go out first in, first out together: a change waits behind the message it changes.
 */
export interface ChangeRow {
  /** The idempotency key, made when the change is made and resent unchanged. */
  clientChangeId: string;
  userId: string;
  roomId: string;
  /** The message changed: its server id when known, else named by (senderId, clientId). */
  messageId: string | null;
  clientId: string;
  senderId: string;
  op: ChangeOp;
  createdAt: number;
  order: number;
  attempts: number;
  lastError: ChatErrorData | null;
  status: 'pending' | 'failed';
  /** Failed because the message it changes failed to send: retried with it. */
  blockedBy?: string;
}

export interface DraftRow {
  /** `${userId}_${roomId}`, see `draftKey`. */
  key: string;
  userId: string;
  roomId: string;
  text: string;
  image: Blob | null;
  updatedAt: number;
}

/** A signed-in user of one server: a browser may hold several (several people, one origin). */
export interface SessionRow {
  /** The server url. */
  scope: string;
  userId: string;
  user: User;
  token: string;
  /** When this user was last signed in or resumed here: the newest is resumed by a new tab. */
  savedAt: number;
}

export interface OutboxTable {
  put(row: OutboxRow): Promise<void>;
  get(clientId: string): Promise<OutboxRow | undefined>;
  delete(clientId: string): Promise<void>;
  /** The user's rows, oldest `order` first. */
  listByUser(userId: string): Promise<OutboxRow[]>;
}

export interface ChangeTable {
  put(row: ChangeRow): Promise<void>;
  delete(clientChangeId: string): Promise<void>;
  /** The user's rows, oldest `order` first. */
  listByUser(userId: string): Promise<ChangeRow[]>;
}

export interface DraftTable {
  get(userId: string, roomId: string): Promise<DraftRow | undefined>;
  put(row: DraftRow): Promise<void>;
  delete(userId: string, roomId: string): Promise<void>;
  deleteByUser(userId: string): Promise<void>;
}

export interface SessionTable {
  /** The session of the user most recently active on this server, if any. */
  latest(scope: string): Promise<SessionRow | undefined>;
  get(scope: string, userId: string): Promise<SessionRow | undefined>;
  put(row: SessionRow): Promise<void>;
  delete(scope: string, userId: string): Promise<void>;
}

/** What a tab needs to show its rooms after a reload without network. */
export interface CacheTable {
  /** The room list as last put (an empty list when none was). */
  getRooms(userId: string): Promise<Room[]>;
  /** Replaces the user's room list. */
  putRooms(userId: string, rooms: Room[]): Promise<void>;
  /** A room's cached messages, ascending seq. */
  getMessages(userId: string, roomId: string): Promise<Message[]>;
  /** Merges by seq with what is held and keeps the newest CACHE_MESSAGES_PER_ROOM. */
  putMessages(userId: string, roomId: string, messages: Message[]): Promise<void>;
  /**
   * Message changes (protocol 10.5): replaces the cached messages held by seq with these
   * newer copies (a higher `rev`; others are left alone, nothing is added), and raises the
   * room's applied change counter to `rev` when given, in one transaction.
   */
  updateMessages(userId: string, roomId: string, messages: Message[], rev?: number): Promise<void>;
  /** The applied change counter of every room of the user that has one. */
  getRevs(userId: string): Promise<Record<string, number>>;
  /** Forgets one room's cached messages and change counter (the user left it). */
  deleteMessages(userId: string, roomId: string): Promise<void>;
  /** Forgets the user's rooms and messages (drafts, outbox and sessions stay). */
  clearUser(userId: string): Promise<void>;
}

/** A read cursor the server has not acknowledged yet (`mark_read`): one per (user, room). */
export interface ReadRow {
  userId: string;
  roomId: string;
  seq: number;
}

/** The user's pending read cursors, written before anything goes on the wire. */
export interface ReadTable {
  /** Coalesces: keeps the higher of the stored seq and this one. */
  put(row: ReadRow): Promise<void>;
  /** Deletes the row unless it holds a seq above `seq` (a later mark that must still go out). */
  delete(userId: string, roomId: string, seq: number): Promise<void>;
  listByUser(userId: string): Promise<ReadRow[]>;
}

/** IndexedDB or memory, with the same semantics: rows go in and come out as copies. */
export interface ChatStorage {
  readonly kind: 'indexeddb' | 'memory';
  readonly outbox: OutboxTable;
  readonly drafts: DraftTable;
  readonly sessions: SessionTable;
  readonly cache: CacheTable;
  readonly reads: ReadTable;
  readonly changes: ChangeTable;
  /** Closes the database; later calls reject with a CLOSED ChatError. */
  close(): void;
}

export function draftKey(userId: string, roomId: string): string {
  return `${userId}_${roomId}`;
}
