import { ChatError, type Message, type Room, type User } from '@chat/sdk/protocol';
import type { MessagePage, NewMessage, NewRoom, ReadState, Session, Storage, Upload, WriteHooks } from './types.js';

interface RoomRecord {
  room: Omit<Room, 'lastSeq' | 'lastMessage'>;
  messages: Message[]; // index i holds seq i + 1
  /** Global activity counter: rises on the room's creation and on each of its messages. */
  activity: number;
  /** Read cursors above 0, by member. */
  readSeqs: Map<string, number>;
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
  private readonly uploads = new Map<string, Upload>();
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
      .filter((u) => (after === null || u.email > after) && (u.email.startsWith(prefix) || u.name.toLowerCase().startsWith(prefix)))
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

  createRoom(input: NewRoom, hooks?: WriteHooks): Room {
    hooks?.beforeCommit?.();
    const record: RoomRecord = {
      room: { id: input.id, name: input.name, memberIds: [...input.memberIds], createdBy: input.createdBy, createdAt: input.createdAt },
      messages: [],
      activity: ++this.activity,
      readSeqs: new Map(),
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

  markRead(roomId: string, userId: string, seq: number, hooks?: WriteHooks): { seq: number; moved: boolean } {
    const record = this.rooms.get(roomId);
    if (!record || !this.isMember(roomId, userId)) throw new ChatError('FORBIDDEN', 'not a member of this room');
    const current = record.readSeqs.get(userId) ?? 0;
    const next = Math.min(seq, record.messages.length);
    if (next <= current) return { seq: current, moved: false };
    hooks?.beforeCommit?.();
    record.readSeqs.set(userId, next);
    return { seq: next, moved: true };
  }

  getReadStates(userId: string, roomIds: readonly string[]): Map<string, ReadState> {
    const states = new Map<string, ReadState>();
    for (const roomId of roomIds) {
      const record = this.rooms.get(roomId);
      if (!record || !this.isMember(roomId, userId)) continue;
      const readSeqs: Record<string, number> = {};
      // In member order, as SQLite returns them.
      for (const memberId of record.room.memberIds) {
        const seq = record.readSeqs.get(memberId);
        if (seq) readSeqs[memberId] = seq;
      }
      states.set(roomId, { readSeqs, ownAfter: this.countOwnAfter(roomId, userId, record.readSeqs.get(userId) ?? 0) });
    }
    return states;
  }

  countOwnAfter(roomId: string, userId: string, seq: number): number {
    const messages = this.rooms.get(roomId)?.messages ?? [];
    let count = 0;
    for (let i = seq; i < messages.length; i++) if (messages[i]!.senderId === userId) count++;
    return count;
  }

  createUpload(upload: Upload): void {
    this.uploads.set(upload.id, { ...upload });
  }

  getUpload(id: string): Upload | undefined {
    const upload = this.uploads.get(id);
    return upload && { ...upload };
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
