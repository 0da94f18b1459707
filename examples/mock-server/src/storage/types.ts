import type { Image, Message, Room, User } from '@chat/sdk/protocol';

/**
 * The server's storage, kept small and synchronous: every call runs to completion before
 * the next frame is read, so a write is one transaction and nothing is ever half-written.
 * Two implementations: `MemoryStorage` (tests, `storage: 'memory'`) and `SqliteStorage`.
 */
export interface Storage {
  readonly kind: 'memory' | 'sqlite';

  // users
  /** Throws ChatError CONFLICT when the email exists. */
  createUser(user: User, hooks?: WriteHooks): User;
  getUser(id: string): User | undefined;
  getUserByEmail(email: string): User | undefined;
  getUsersByIds(ids: readonly string[]): User[];
  /** Users whose lower-cased name starts with `prefix` or whose email is `prefix` exactly, ordered by email, after `after` (an email). */
  searchUsers(prefix: string, after: string | null, limit: number): User[];

  // sessions
  createSession(session: Session): void;
  getSessionByTokenHash(tokenHash: string): Session | undefined;
  deleteSession(id: string): void;
  /** Deletes every session whose `expiresAt` is at or before `now`; returns how many. */
  deleteExpiredSessions(now: number): number;

  // rooms
  /** Stores the room and its members in one transaction. */
  createRoom(room: NewRoom, hooks?: WriteHooks): Room;
  getRoom(id: string): Room | undefined;
  isMember(roomId: string, userId: string): boolean;
  /** The user's rooms, most recent activity (last message, else creation) first. */
  getUserRooms(userId: string): Room[];

  // messages
  /**
   * Stores a message with the room's next seq, unless (senderId, clientId) exists: then
   * returns the stored one with `duplicate: true` and writes nothing.
   */
  createMessage(message: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean };
  getMessageByClientId(senderId: string, clientId: string): Message | undefined;
  getMessages(roomId: string, page: MessagePage): { messages: Message[]; hasMore: boolean };

  // uploads: the bytes are written in parts as they arrive, then the record commits them.
  /** Stores part `index` (0, 1, 2, ...) of the bytes of the upload `id` (not yet visible). */
  writeUploadPart(id: string, index: number, bytes: Buffer, createdAt: number): void;
  /** Makes the upload visible: its record over the parts written for it. */
  createUpload(upload: UploadRecord): void;
  /** Drops an upload's parts and record (an upload that failed or was refused). */
  deleteUpload(id: string): void;
  /** The record without the bytes. */
  getUpload(id: string): UploadRecord | undefined;
  /** The bytes, part by part, read as they are iterated. */
  readUpload(id: string): Iterable<Buffer>;
  /** Marks an upload as used by a message: it is no longer an orphan. */
  markUploadUsed(id: string): void;
  /** Bytes of all uploads of a user. */
  uploadBytesOf(ownerId: string): number;
  /** Deletes up to `max` uploads no message uses made before `createdBefore` (and parts of uploads that never completed); returns how many. */
  deleteOrphanUploads(createdBefore: number, max?: number): number;

  close(): void;
}

/**
 * Called inside a write's transaction after its rows are written and before it commits;
 * a throw rolls everything back. The faults switch uses it to prove writes are atomic.
 */
export interface WriteHooks {
  beforeCommit?: () => void;
}

export interface Session {
  id: string;
  userId: string;
  /** sha256 of the token, so a copy of the database holds no usable token. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
}

export interface NewRoom {
  id: string;
  name: string | null;
  /** The creator first, then the other members, without duplicates. */
  memberIds: string[];
  createdBy: string;
  createdAt: number;
}

export interface NewMessage {
  id: string;
  roomId: string;
  senderId: string;
  clientId: string;
  text: string;
  image: Image | null;
  createdAt: number;
}

export interface MessagePage {
  before?: number;
  after?: number;
  limit: number;
}

/** An upload's metadata; its bytes are read with `readUpload`. */
export interface UploadRecord {
  id: string;
  ownerId: string;
  /** Relative (`/uploads/ID`) unless the server has a public url. */
  url: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
  createdAt: number;
}

/** The Image a message stores, taken from the upload record (never from the client). */
export function imageOf(upload: UploadRecord): Image {
  const image: Image = { url: upload.url, mime: upload.mime, size: upload.size };
  if (upload.width !== undefined) image.width = upload.width;
  if (upload.height !== undefined) image.height = upload.height;
  return image;
}
