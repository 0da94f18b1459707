import { ChatError, type Message, type Room, type User } from '@chat/sdk/protocol';
import { planChange, quoteOf } from './changes.js';
import type {
  AppliedAction, ChangeResult, LeaveChange, MembersChange, MessageChange, MessagePage, NewMessage, NewRoom, ReadState, RoomPage, Session, Storage,
  UploadRecord, WriteHooks,
} from './types.js';
import { uploadIdOf } from './types.js';
import { UploadFiles } from './upload-files.js';

interface RoomRecord {
  room: Omit<Room, 'lastSeq' | 'lastMessage' | 'lastRev'>;
  /** The change counter (10.5): the rev of the room's latest edit, delete or reaction. */
  lastRev: number;
  /** Who added each member (the creator added themselves and the first members). */
  addedBy: Map<string, string>;
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
  /** The stored messages (without `replyTo`, which is read from the parent each time). */
  private readonly messagesById = new Map<string, Message>();
  /** Reply id -> the id of the message it answers. */
  private readonly replyTo = new Map<string, string>();
  /** Idempotency keys of message changes: `user \0 clientChangeId` -> message id. */
  private readonly appliedChanges = new Map<string, string>();
  private readonly uploads = new Map<string, UploadRecord & { used: boolean }>();
  /** Upload bytes: files in `uploadsDir`, or in a temporary folder removed at close. */
  readonly uploadFiles: UploadFiles;
  /** Idempotency keys of 1.1 changes: `user \0 action \0 clientId` -> room id. */
  private readonly applied = new Map<string, string>();
  /** Per user, the users they blocked from adding them to rooms. */
  private readonly blocks = new Map<string, Set<string>>();
  private readonly lastSeen = new Map<string, number>();
  private activity = 0;

  constructor(options: { uploadsDir?: string } = {}) {
    this.uploadFiles = new UploadFiles(options.uploadsDir);
  }

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
      addedBy: new Map(input.memberIds.map((id) => [id, input.createdBy])),
      lastRev: 0,
      messages: [],
      activity: ++this.activity,
      readSeqs: new Map(),
    };
    this.rooms.set(input.id, record);
    for (const userId of input.memberIds) this.join(userId, input.id);
    if (input.clientId !== undefined) this.applied.set(appliedKey(input.createdBy, 'create_room', input.clientId), input.id);
    return this.toRoom(record);
  }

  findApplied(userId: string, action: AppliedAction, clientId: string): string | undefined {
    return this.applied.get(appliedKey(userId, action, clientId));
  }

  addMembers(change: MembersChange, hooks?: WriteHooks): Room {
    const record = this.rooms.get(change.roomId);
    if (!record) throw new ChatError('NOT_FOUND', 'no such room');
    hooks?.beforeCommit?.();
    for (const userId of change.userIds) {
      if (record.addedBy.has(userId)) continue;
      record.room.memberIds.push(userId);
      record.addedBy.set(userId, change.addedBy);
      this.join(userId, change.roomId);
    }
    this.applied.set(appliedKey(change.addedBy, 'add_members', change.clientId), change.roomId);
    return this.toRoom(record);
  }

  leaveRoom(change: LeaveChange, hooks?: WriteHooks): Room {
    const record = this.rooms.get(change.roomId);
    if (!record) throw new ChatError('NOT_FOUND', 'no such room');
    hooks?.beforeCommit?.();
    const adder = record.addedBy.get(change.userId);
    record.room.memberIds = record.room.memberIds.filter((id) => id !== change.userId);
    record.addedBy.delete(change.userId);
    this.roomsByUser.get(change.userId)?.delete(change.roomId);
    if (change.block && adder !== undefined && adder !== change.userId) {
      let set = this.blocks.get(change.userId);
      if (!set) this.blocks.set(change.userId, (set = new Set()));
      set.add(adder);
    }
    this.applied.set(appliedKey(change.userId, 'leave_room', change.clientId), change.roomId);
    return this.toRoom(record);
  }

  blockedBy(userIds: readonly string[], adderId: string): string[] {
    return [...new Set(userIds)].filter((id) => this.blocks.get(id)?.has(adderId) ?? false);
  }

  private join(userId: string, roomId: string): void {
    let set = this.roomsByUser.get(userId);
    if (!set) this.roomsByUser.set(userId, (set = new Set()));
    set.add(roomId);
  }

  getRoom(id: string): Room | undefined {
    const record = this.rooms.get(id);
    return record && this.toRoom(record);
  }

  isMember(roomId: string, userId: string): boolean {
    return this.roomsByUser.get(userId)?.has(roomId) ?? false;
  }

  getMemberIds(roomId: string): readonly string[] | undefined {
    const record = this.rooms.get(roomId);
    return record && [...record.room.memberIds];
  }

  getUserRooms(userId: string): Room[] {
    const ids = this.roomsByUser.get(userId) ?? new Set<string>();
    return [...ids]
      .map((id) => this.rooms.get(id)!)
      .sort((a, b) => b.activity - a.activity)
      .map((r) => this.toRoom(r));
  }

  getUserRoomsPage(userId: string, page: RoomPage): { rooms: Room[]; next: number | null } {
    const ids = this.roomsByUser.get(userId) ?? new Set<string>();
    const records = [...ids]
      .map((id) => this.rooms.get(id)!)
      .filter((r) => page.before === undefined || r.activity < page.before)
      .sort((a, b) => b.activity - a.activity);
    const taken = records.slice(0, page.limit);
    const next = records.length > page.limit ? taken.at(-1)!.activity : null;
    return { rooms: taken.map((r) => this.toRoom(r)), next };
  }

  createMessage(input: NewMessage, hooks?: WriteHooks): { message: Message; duplicate: boolean } {
    const key = clientKey(input.senderId, input.clientId);
    const existing = this.messagesByClientId.get(key);
    if (existing) return { message: this.view(existing), duplicate: true };
    const record = this.rooms.get(input.roomId);
    if (!record) throw new ChatError('NOT_FOUND', 'no such room');
    hooks?.beforeCommit?.();
    const { replyTo, ...fields } = input;
    const message: Message = { ...fields, image: input.image && { ...input.image }, seq: record.messages.length + 1 };
    record.messages.push(message);
    record.activity = ++this.activity;
    this.messagesByClientId.set(key, message);
    this.messagesById.set(message.id, message);
    if (replyTo !== undefined) this.replyTo.set(message.id, replyTo);
    return { message: this.view(message), duplicate: false };
  }

  getMessageByClientId(senderId: string, clientId: string): Message | undefined {
    const message = this.messagesByClientId.get(clientKey(senderId, clientId));
    return message && this.view(message);
  }

  getMessages(roomId: string, page: MessagePage): { messages: Message[]; hasMore: boolean } {
    const all = this.rooms.get(roomId)?.messages ?? [];
    let from: number; // index of the first message returned
    let to: number; // index after the last one
    if (page.after !== undefined) {
      from = Math.min(page.after, all.length);
      to = Math.min(from + page.limit, all.length);
      return { messages: all.slice(from, to).map((m) => this.view(m)), hasMore: to < all.length };
    }
    to = page.before !== undefined ? Math.min(Math.max(page.before - 1, 0), all.length) : all.length;
    from = Math.max(to - page.limit, 0);
    return { messages: all.slice(from, to).map((m) => this.view(m)), hasMore: from > 0 };
  }

  getMessage(id: string): Message | undefined {
    const message = this.messagesById.get(id);
    return message && this.view(message);
  }

  findAppliedChange(userId: string, clientChangeId: string): string | undefined {
    return this.appliedChanges.get(clientKey(userId, clientChangeId));
  }

  changeMessage(change: MessageChange, hooks?: WriteHooks): ChangeResult {
    const message = this.messagesById.get(change.messageId);
    if (!message) throw new ChatError('NOT_FOUND', 'no such message');
    const key = clientKey(change.userId, change.clientChangeId);
    const applied = this.appliedChanges.get(key);
    if (applied !== undefined) return { message: this.getMessage(applied)!, changed: false, duplicate: true };
    const next = planChange(message, change);
    hooks?.beforeCommit?.();
    this.appliedChanges.set(key, message.id);
    if (!next) return { message: this.view(message), changed: false, duplicate: false };
    const record = this.rooms.get(message.roomId)!;
    const uploadId = message.image ? uploadIdOf(message.image.url) : undefined;
    delete message.editedAt;
    delete message.deletedAt;
    delete message.reactions;
    Object.assign(message, next, { rev: ++record.lastRev });
    if (next.deletedAt !== undefined) this.replyTo.delete(message.id);
    const freed = next.deletedAt !== undefined && uploadId !== undefined && !this.uploadShown(uploadId);
    return { message: this.view(message), changed: true, duplicate: false, ...(freed ? { freedUploadId: uploadId } : {}) };
  }

  getChanges(roomId: string, afterRev: number, limit: number): { messages: Message[]; hasMore: boolean; lastRev: number } {
    const record = this.rooms.get(roomId);
    if (!record) return { messages: [], hasMore: false, lastRev: 0 };
    const changed = record.messages.filter((m) => (m.rev ?? 0) > afterRev).sort((a, b) => a.rev! - b.rev!);
    return { messages: changed.slice(0, limit).map((m) => this.view(m)), hasMore: changed.length > limit, lastRev: record.lastRev };
  }

  private uploadShown(uploadId: string): boolean {
    for (const m of this.messagesById.values()) if (m.image && uploadIdOf(m.image.url) === uploadId) return true;
    return false;
  }

  /** A copy as a reader gets it, with the quote of its parent as the parent is now. */
  private view(message: Message): Message {
    const copy: Message = { ...message, image: message.image && { ...message.image } };
    if (message.reactions) copy.reactions = Object.fromEntries(Object.entries(message.reactions).map(([e, ids]) => [e, [...ids]]));
    const parentId = this.replyTo.get(message.id);
    const parent = parentId === undefined ? undefined : this.messagesById.get(parentId);
    if (parent) copy.replyTo = quoteOf(parent);
    return copy;
  }

  private toRoom(record: RoomRecord): Room {
    const last = record.messages[record.messages.length - 1];
    return {
      ...record.room,
      memberIds: [...record.room.memberIds],
      lastSeq: record.messages.length,
      lastMessage: last ? this.view(last) : null,
      lastRev: record.lastRev,
    };
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

  getCoMemberIds(userId: string): string[] {
    const found = new Set<string>();
    for (const roomId of this.roomsByUser.get(userId) ?? []) {
      for (const id of this.rooms.get(roomId)!.room.memberIds) if (id !== userId) found.add(id);
    }
    return [...found];
  }

  setLastSeenAt(userId: string, at: number): void {
    if (this.users.has(userId)) this.lastSeen.set(userId, at);
  }

  getLastSeenAt(userIds: readonly string[]): Map<string, number> {
    const found = new Map<string, number>();
    for (const id of userIds) {
      const at = this.lastSeen.get(id);
      if (at !== undefined) found.set(id, at);
    }
    return found;
  }

  createUpload(upload: UploadRecord): void {
    this.uploads.set(upload.id, { ...upload, used: false });
  }

  deleteUpload(id: string): void {
    this.uploads.delete(id);
    this.uploadFiles.removeSoon(id);
  }

  getUpload(id: string): UploadRecord | undefined {
    const found = this.uploads.get(id);
    if (!found) return undefined;
    const { used: _used, ...upload } = found;
    return upload;
  }

  uploadIds(): string[] {
    return [...this.uploads.keys()];
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
    return deleted;
  }

  close(): void {
    // Nothing to flush: memory keeps nothing (a temporary uploads folder goes too).
    this.uploadFiles.close();
  }
}

const clientKey = (senderId: string, clientId: string) => `${senderId}\u0000${clientId}`;
const appliedKey = (userId: string, action: AppliedAction, clientId: string) => `${userId}\u0000${action}\u0000${clientId}`;
