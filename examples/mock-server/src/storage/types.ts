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
  /** Users whose email or lower-cased name starts with `prefix`, ordered by email, after `after` (an email). */
  searchUsers(prefix: string, after: string | null, limit: number): User[];

  // sessions
  createSession(session: Session): void;
  getSessionByTokenHash(tokenHash: string): Session | undefined;
  deleteSession(id: string): void;

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

  // read state (protocol 10.4)
  /**
   * Moves the member's read cursor up to `seq`, clamped to the room's lastSeq; never back.
   * Returns the cursor after the call and whether it moved.
   */
  markRead(roomId: string, userId: string, seq: number, hooks?: WriteHooks): { seq: number; moved: boolean };
  /**
   * For each listed room the user is a member of (others are left out): every member's
   * cursor above 0, in member order, and how many of the user's own messages come after the
   * user's cursor. Two queries for a whole page of rooms (`get_user_rooms`).
   */
  getReadStates(userId: string, roomIds: readonly string[]): Map<string, ReadState>;
  /**
   * How many of the room's messages after `seq` the user sent: a member's unread count is
   * `lastSeq - cursor - countOwnAfter(room, member, cursor)` (see handlers/read.ts).
   */
  countOwnAfter(roomId: string, userId: string, seq: number): number;

  // uploads
  createUpload(upload: Upload): void;
  getUpload(id: string): Upload | undefined;

  close(): void;
}

/**
 * Called inside a write's transaction after its rows are written and before it commits;
 * a throw rolls everything back. The faults switch uses it to prove writes are atomic.
 */
export interface WriteHooks {
  beforeCommit?: () => void;
}

/** A room's read state as one member sees it (see `Storage.getReadStates`). */
export interface ReadState {
  readSeqs: Record<string, number>;
  /** The member's own messages after their cursor (their unread count is `lastSeq - cursor - ownAfter`). */
  ownAfter: number;
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

export interface Upload {
  id: string;
  ownerId: string;
  url: string;
  mime: string;
  size: number;
  width?: number;
  height?: number;
  bytes: Buffer;
  createdAt: number;
}

/** The Image a message stores, taken from the upload record (never from the client). */
export function imageOf(upload: Upload): Image {
  const image: Image = { url: upload.url, mime: upload.mime, size: upload.size };
  if (upload.width !== undefined) image.width = upload.width;
  if (upload.height !== undefined) image.height = upload.height;
  return image;
}
