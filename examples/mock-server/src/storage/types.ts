import type { Image, Message, Room, User } from '@chat/sdk/protocol';
import type { UploadFiles } from './upload-files.js';

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
  /**
   * The room's member ids in member order, or undefined when there is no such room: what a
   * frame into a room checks and fans out to, without reading the rest of the room.
   */
  getMemberIds(roomId: string): readonly string[] | undefined;
  /** The user's rooms, most recent activity (last message, else creation) first. */
  getUserRooms(userId: string): Room[];
  /**
   * One page of the user's rooms, most recent activity first: those whose activity is below
   * `before` (none: from the top). `next` is the activity to pass as `before` for the next
   * page, or null on the last one. Activity values are unique and only rise.
   */
  getUserRoomsPage(userId: string, page: RoomPage): { rooms: Room[]; next: number | null };
  /** The room a change with this idempotency key made or touched (1.1), if it was applied. */
  findApplied(userId: string, action: AppliedAction, clientId: string): string | undefined;
  /**
   * Adds members after the existing ones (`addedBy` recorded for each) and records the
   * change's key, in one transaction. Callers pass only users who are not members yet.
   */
  addMembers(change: MembersChange, hooks?: WriteHooks): Room;
  /**
   * Removes the member and records the change's key; with `block`, whoever added them may
   * no longer add them to any room. One transaction. Returns the room as it is after.
   */
  leaveRoom(change: LeaveChange, hooks?: WriteHooks): Room;
  /** Which of `userIds` have blocked `adderId` from adding them (leave_room with block). */
  blockedBy(userIds: readonly string[], adderId: string): string[];

  // messages
  /**
   * Stores a message with the room's next seq, unless (senderId, clientId) exists: then
   * returns the stored one with `duplicate: true` and writes nothing.
   */
  createMessage(message: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean };
  getMessageByClientId(senderId: string, clientId: string): Message | undefined;
  getMessages(roomId: string, page: MessagePage): { messages: Message[]; hasMore: boolean };

  // message changes (protocol 10.5)
  /** A message by its server id, as it is now (with its reactions and reply quote). */
  getMessage(id: string): Message | undefined;
  /** The message a change with this key (caller, clientChangeId) was applied to, if it was. */
  findAppliedChange(userId: string, clientChangeId: string): string | undefined;
  /**
   * One transaction: checks the message can take the change (a tombstone takes no edit or
   * reaction: CONFLICT; a 51st distinct emoji: TOO_LARGE), applies it, bumps the room's
   * `lastRev`, stamps the message's `rev` with it and records the key. A change that asks
   * for what is already so (a reaction already there or not there, deleting a tombstone)
   * records the key only: `changed` false, no new rev. The caller has checked who may make it.
   */
  changeMessage(change: MessageChange, hooks?: WriteHooks): ChangeResult;
  /** The room's messages with `rev > afterRev`, by rev ascending, at most `limit`, and the room's `lastRev`. */
  getChanges(roomId: string, afterRev: number, limit: number): { messages: Message[]; hasMore: boolean; lastRev: number };

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
  /** Everyone who shares at least one room with the user (the user not included). */
  getCoMemberIds(userId: string): string[];

  // presence (protocol 1.1): when each user was last seen, kept across restarts
  setLastSeenAt(userId: string, at: number): void;
  /** The stored times of those listed that have one. */
  getLastSeenAt(userIds: readonly string[]): Map<string, number>;

  // uploads: the bytes are files (`uploadFiles`, written and read with streams); the
  // metadata is here, written once the file is complete.
  /** The upload files: `uploadFiles.create(id)` to write, `uploadFiles.open(id)` to read. */
  readonly uploadFiles: UploadFiles;
  /** Makes the upload visible: its record, once its file is complete (committed). */
  createUpload(upload: UploadRecord): void;
  /** Drops an upload's record, then its file (in the background): an upload that failed, was refused, or whose message went. */
  deleteUpload(id: string): void;
  /** The record without the bytes. */
  getUpload(id: string): UploadRecord | undefined;
  /** Every upload's id (the start-up check of records against files). */
  uploadIds(): string[];
  /** Marks an upload as used by a message: it is no longer an orphan. */
  markUploadUsed(id: string): void;
  /** Bytes of all uploads of a user. */
  uploadBytesOf(ownerId: string): number;
  /** Deletes up to `max` uploads no message uses made before `createdBefore`, records and files; returns how many. */
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
  /** 1.1: the creator's idempotency key, recorded with the room (`findApplied`). */
  clientId?: string;
}

/** The actions whose idempotency keys `findApplied` knows (1.1). */
export type AppliedAction = 'create_room' | 'add_members' | 'leave_room';

export interface RoomPage {
  /** Only rooms whose activity is below this; none: from the most recent. */
  before?: number;
  limit: number;
}

export interface MembersChange {
  roomId: string;
  userIds: string[];
  addedBy: string;
  clientId: string;
}

export interface LeaveChange {
  roomId: string;
  userId: string;
  clientId: string;
  block: boolean;
}

export interface NewMessage {
  id: string;
  roomId: string;
  senderId: string;
  clientId: string;
  text: string;
  image: Image | null;
  createdAt: number;
  /** 1.1: the id of the message of the same room this one answers (checked by the caller). */
  replyTo?: string;
}

/** An edit, delete or reaction (protocol 10.5), by `userId` under their key `clientChangeId`. */
export type MessageChange = { messageId: string; userId: string; clientChangeId: string } & (
  | { kind: 'edit'; text: string; at: number }
  | { kind: 'delete'; at: number }
  | { kind: 'react'; emoji: string; on: boolean }
);

export interface ChangeResult {
  /** The message as it is after the change. */
  message: Message;
  /** False for a change that asked for what was already so, and for a repeat: no rev, no event. */
  changed: boolean;
  /** The key was already applied (by an earlier call): nothing was written, `message` is as it is now. */
  duplicate: boolean;
  /**
   * A delete: the upload the tombstone's image was, when no other message shows it any
   * more; the caller deletes its bytes (`deleteUpload`) once the change is committed.
   */
  freedUploadId?: string;
}

export interface MessagePage {
  before?: number;
  after?: number;
  limit: number;
}

/** An upload's metadata; its bytes are the file `uploadFiles.open(id)` reads. */
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

/** The last path segments `/uploads/<id>` name one of this server's uploads, whatever the host. */
const UPLOAD_PATH = /\/uploads\/([A-Za-z0-9_-]{1,64})$/;

/** The id of the upload an image url names, if it names one of this server's. */
export function uploadIdOf(url: string): string | undefined {
  let path: string;
  try {
    path = new URL(url, 'http://upload.invalid').pathname;
  } catch {
    return undefined;
  }
  return UPLOAD_PATH.exec(path)?.[1];
}
