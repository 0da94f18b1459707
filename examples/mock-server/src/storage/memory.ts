import { ChatError, type Message, type Room, type User } from '@chat/sdk/protocol';
import type { MessagePage, NewMessage, NewRoom, Session, Storage, UploadRecord, WriteHooks } from './types.js';

interface RoomRecord {
  room: Omit<Room, 'lastSeq' | 'lastMessage'>;
  messages: Message[]; // index i holds seq i + 1
  /** Global activity counter: rises on the room's creation and on each of its messages. */
  activity: number;
}

/**
 * Everything in maps; lost on close. Each write first checks everything that can fail,
 * then runs the hook, then mutates, so a throw leaves nothing behind.
 */
export class MemoryStorage implements Storage {
  readonly kind = 'memory' as const;
  private readonly users = new Map<string, User>();
  private readonly usersByEmail = new Map<string, User>();
  private readonly sessions = new Map<string, Session>();
  private readonly sessionsByHash = new Map<string, Session>();
  private readonly rooms = new Map<string, RoomRecord>();
  private readonly roomsByUser = new Map<string, Set<string>>();
  private readonly messagesByClientId = new Map<string, Message>();
  private readonly uploads = new Map<string, UploadRecord & { used: boolean }>();
  private readonly uploadParts = new Map<string, { parts: Buffer[]; createdAt: number }>();
  private activity = 0;

  createUser(user: User, hooks?: WriteHooks): User {
    if (this.usersByEmail.has(user.email)) throw new ChatError('CONFLICT', 'a user with this email exists');
    hooks?.beforeCommit?.();
    const stored = { ...user };
    this.users.set(stored.id, stored);
    this.usersByEmail.set(stored.email, stored);
    return { ...stored };
  }

  getUser(id: string): User | undefined {
    const user = this.users.get(id);
    return user && { ...user };
  }

  getUserByEmail(email: string): User | undefined {
    const user = this.usersByEmail.get(email);
    return user && { ...user };
  }

  getUsersByIds(ids: readonly string[]): User[] {
    return [...new Set(ids)].flatMap((id) => {
      const user = this.users.get(id);
      return user ? [{ ...user }] : [];
    });
  }

  searchUsers(prefix: string, after: string | null, limit: number): User[] {
    return [...this.users.values()]
      .filter((u) => (after === null || u.email > after) && (u.email === prefix || u.name.toLowerCase().startsWith(prefix)))
      .sort((a, b) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0))
      .slice(0, limit)
      .map((u) => ({ ...u }));
  }

  createSession(session: Session): void {
    const stored = { ...session };
    this.sessions.set(stored.id, stored);
    this.sessionsByHash.set(stored.tokenHash, stored);
  }

  getSessionByTokenHash(tokenHash: string): Session | undefined {
    const session = this.sessionsByHash.get(tokenHash);
    return session && { ...session };
  }

  deleteSession(id: string): void {
    const session = this.sessions.get(id);
    if (!session) return;
    this.sessions.delete(id);
    this.sessionsByHash.delete(session.tokenHash);
  }

  deleteExpiredSessions(now: number): number {
    let deleted = 0;
    for (const session of [...this.sessions.values()]) {
      if (session.expiresAt <= now) {
        this.deleteSession(session.id);
        deleted++;
      }
    }
    return deleted;
  }

  createRoom(input: NewRoom, hooks?: WriteHooks): Room {
    hooks?.beforeCommit?.();
    const record: RoomRecord = {
      room: { id: input.id, name: input.name, memberIds: [...input.memberIds], createdBy: input.createdBy, createdAt: input.createdAt },
      messages: [],
      activity: ++this.activity,
    };
    this.rooms.set(input.id, record);
    for (const userId of input.memberIds) {
      let set = this.roomsByUser.get(userId);
      if (!set) this.roomsByUser.set(userId, (set = new Set()));
      set.add(input.id);
    }
    return toRoom(record);
  }

  getRoom(id: string): Room | undefined {
    const record = this.rooms.get(id);
    return record && toRoom(record);
  }

  isMember(roomId: string, userId: string): boolean {
    return this.roomsByUser.get(userId)?.has(roomId) ?? false;
  }

  getUserRooms(userId: string): Room[] {
    const ids = this.roomsByUser.get(userId) ?? new Set<string>();
    return [...ids]
      .map((id) => this.rooms.get(id)!)
      .sort((a, b) => b.activity - a.activity)
      .map(toRoom);
  }

  createMessage(input: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean } {
    const key = clientKey(input.senderId, input.clientId);
    const existing = this.messagesByClientId.get(key);
    if (existing) return { message: copyMessage(existing), duplicate: true };
    const record = this.rooms.get(input.roomId);
    if (!record) throw new ChatError('NOT_FOUND', 'no such room');
    hooks?.beforeCommit?.();
    const message: Message = { ...input, image: input.image && { ...input.image }, seq: record.messages.length + 1 };
    record.messages.push(message);
    record.activity = ++this.activity;
    this.messagesByClientId.set(key, message);
    return { message: copyMessage(message), duplicate: false };
  }

  getMessageByClientId(senderId: string, clientId: string): Message | undefined {
    const message = this.messagesByClientId.get(clientKey(senderId, clientId));
    return message && copyMessage(message);
  }

  getMessages(roomId: string, page: MessagePage): { messages: Message[]; hasMore: boolean } {
    const all = this.rooms.get(roomId)?.messages ?? [];
    let from: number; // index of the first message returned
    let to: number; // index after the last one
    if (page.after !== undefined) {
      from = Math.min(page.after, all.length);
      to = Math.min(from + page.limit, all.length);
      return { messages: all.slice(from, to).map(copyMessage), hasMore: to < all.length };
    }
    to = page.before !== undefined ? Math.min(Math.max(page.before - 1, 0), all.length) : all.length;
    from = Math.max(to - page.limit, 0);
    return { messages: all.slice(from, to).map(copyMessage), hasMore: from > 0 };
  }

  writeUploadPart(id: string, index: number, bytes: Buffer, createdAt: number): void {
    let entry = this.uploadParts.get(id);
    if (!entry) this.uploadParts.set(id, (entry = { parts: [], createdAt }));
    entry.parts[index] = Buffer.from(bytes);
  }

  createUpload(upload: UploadRecord): void {
    this.uploads.set(upload.id, { ...upload, used: false });
  }

  deleteUpload(id: string): void {
    this.uploads.delete(id);
    this.uploadParts.delete(id);
  }

  getUpload(id: string): UploadRecord | undefined {
    const found = this.uploads.get(id);
    if (!found) return undefined;
    const { used: _used, ...upload } = found;
    return upload;
  }

  *readUpload(id: string): Iterable<Buffer> {
    if (!this.uploads.has(id)) return;
    for (const part of this.uploadParts.get(id)?.parts ?? []) yield part;
  }

  markUploadUsed(id: string): void {
    const upload = this.uploads.get(id);
    if (upload) upload.used = true;
  }

  uploadBytesOf(ownerId: string): number {
    let total = 0;
    for (const upload of this.uploads.values()) if (upload.ownerId === ownerId) total += upload.size;
    return total;
  }

  deleteOrphanUploads(createdBefore: number, max = Infinity): number {
    let deleted = 0;
    for (const upload of [...this.uploads.values()]) {
      if (deleted >= max) break;
      if (!upload.used && upload.createdAt < createdBefore) {
        this.deleteUpload(upload.id);
        deleted++;
      }
    }
    for (const [id, entry] of [...this.uploadParts]) {
      if (!this.uploads.has(id) && entry.createdAt < createdBefore) this.uploadParts.delete(id);
    }
    return deleted;
  }

  close(): void {
    // Nothing to flush: memory keeps nothing.
  }
}

const clientKey = (senderId: string, clientId: string) => `${senderId}\u0000${clientId}`;

function copyMessage(message: Message): Message {
  return { ...message, image: message.image && { ...message.image } };
}

function toRoom(record: RoomRecord): Room {
  const last = record.messages[record.messages.length - 1];
  return {
    ...record.room,
    memberIds: [...record.room.memberIds],
    lastSeq: record.messages.length,
    lastMessage: last ? copyMessage(last) : null,
  };
}
