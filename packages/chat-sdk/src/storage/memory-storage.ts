import { ChatError } from '../protocol/index.js';
import {
  draftKey,
  type CacheTable,
  type ChangeRow,
  type ChangeTable,
  type ChatStorage,
  type DraftRow,
  type DraftTable,
  type OutboxRow,
  type OutboxTable,
  type ReadRow,
  type ReadTable,
  type SessionRow,
  type SessionTable,
} from './types.js';
import { mergeCachedMessages, newest, updateCachedMessages } from './row-merges.js';
import type { Message, Room } from '../protocol/index.js';

const isBlobLike = (value: object): boolean =>
  typeof (value as Blob).size === 'number' &&
  typeof (value as Blob).type === 'string' &&
  typeof (value as Blob).arrayBuffer === 'function';

/**
 * A deep copy that keeps Blobs themselves: IndexedDB hands out copies, so memory must too
 * (a caller mutating a row it got must not change the stored one), but a Blob is
 * immutable and copying its bytes would only cost memory.
 */
function copy<T>(value: T): T {
  if (typeof value !== 'object' || value === null || isBlobLike(value)) return value;
  if (Array.isArray(value)) return value.map(copy) as T;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) out[key] = copy(field);
  return out as T;
}

const sessionKey = (scope: string, userId: string) => JSON.stringify([scope, userId]);

/**
 * ChatStorage in memory: the fallback where IndexedDB is missing, and the store for Node.
 * Same semantics as IndexedDB, down to the asynchronous calls.
 */
export class MemoryStorage implements ChatStorage {
  readonly kind = 'memory' as const;
  private closed = false;
  private readonly outboxRows = new Map<string, OutboxRow>();
  private readonly draftRows = new Map<string, DraftRow>();
  private readonly sessionRows = new Map<string, SessionRow>();
  private readonly roomLists = new Map<string, Room[]>();
  /** userId -> roomId -> messages */
  private readonly messageLists = new Map<string, Map<string, Message[]>>();
  private readonly readRows = new Map<string, ReadRow>();
  private readonly changeRows = new Map<string, ChangeRow>();
  /** userId -> roomId -> the applied change counter */
  private readonly revs = new Map<string, Map<string, number>>();

  close(): void {
    this.closed = true;
  }

  /** Every call is asynchronous, as with IndexedDB, and fails the same way once closed. */
  private async run<R>(fn: () => R): Promise<R> {
    if (this.closed) throw new ChatError('CLOSED', 'storage is closed');
    return fn();
  }

  readonly outbox: OutboxTable = {
    put: (row) => this.run(() => void this.outboxRows.set(row.clientId, copy(row))),
    get: (clientId) => this.run(() => copy(this.outboxRows.get(clientId))),
    delete: (clientId) => this.run(() => void this.outboxRows.delete(clientId)),
    listByUser: (userId) =>
      this.run(() =>
        [...this.outboxRows.values()]
          .filter((row) => row.userId === userId)
          .sort((a, b) => a.order - b.order)
          .map(copy),
      ),
  };

  readonly drafts: DraftTable = {
    get: (userId, roomId) => this.run(() => copy(this.draftRows.get(draftKey(userId, roomId)))),
    put: (row) => this.run(() => void this.draftRows.set(row.key, copy(row))),
    delete: (userId, roomId) => this.run(() => void this.draftRows.delete(draftKey(userId, roomId))),
    deleteByUser: (userId) =>
      this.run(() => {
        for (const [key, row] of this.draftRows) if (row.userId === userId) this.draftRows.delete(key);
      }),
  };

  readonly sessions: SessionTable = {
    latest: (scope) => this.run(() => copy(newest([...this.sessionRows.values()].filter((row) => row.scope === scope)))),
    get: (scope, userId) => this.run(() => copy(this.sessionRows.get(sessionKey(scope, userId)))),
    put: (row) => this.run(() => void this.sessionRows.set(sessionKey(row.scope, row.userId), copy(row))),
    delete: (scope, userId) => this.run(() => void this.sessionRows.delete(sessionKey(scope, userId))),
  };

  readonly cache: CacheTable = {
    getRooms: (userId) => this.run(() => copy(this.roomLists.get(userId) ?? [])),
    putRooms: (userId, rooms) => this.run(() => void this.roomLists.set(userId, copy(rooms))),
    getMessages: (userId, roomId) => this.run(() => copy(this.messageLists.get(userId)?.get(roomId) ?? [])),
    putMessages: (userId, roomId, messages) =>
      this.run(() => {
        let rooms = this.messageLists.get(userId);
        if (!rooms) this.messageLists.set(userId, (rooms = new Map()));
        rooms.set(roomId, copy(mergeCachedMessages(rooms.get(roomId) ?? [], messages)));
      }),
    updateMessages: (userId, roomId, messages, rev) =>
      this.run(() => {
        const rooms = this.messageLists.get(userId);
        const held = rooms?.get(roomId);
        if (rooms && held) rooms.set(roomId, copy(updateCachedMessages(held, messages)));
        if (rev === undefined) return;
        let revs = this.revs.get(userId);
        if (!revs) this.revs.set(userId, (revs = new Map()));
        if (rev > (revs.get(roomId) ?? -1)) revs.set(roomId, rev);
      }),
    getRevs: (userId) => this.run(() => Object.fromEntries(this.revs.get(userId) ?? [])),
    deleteMessages: (userId, roomId) =>
      this.run(() => {
        this.messageLists.get(userId)?.delete(roomId);
        this.revs.get(userId)?.delete(roomId);
      }),
    clearUser: (userId) =>
      this.run(() => {
        this.roomLists.delete(userId);
        this.messageLists.delete(userId);
        this.revs.delete(userId);
      }),
  };

  readonly changes: ChangeTable = {
    put: (row) => this.run(() => void this.changeRows.set(row.clientChangeId, copy(row))),
    delete: (clientChangeId) => this.run(() => void this.changeRows.delete(clientChangeId)),
    listByUser: (userId) =>
      this.run(() =>
        [...this.changeRows.values()]
          .filter((row) => row.userId === userId)
          .sort((a, b) => a.order - b.order)
          .map(copy),
      ),
  };

  readonly reads: ReadTable = {
    put: (row) =>
      this.run(() => {
        const key = sessionKey(row.userId, row.roomId);
        if ((this.readRows.get(key)?.seq ?? -1) < row.seq) this.readRows.set(key, copy(row));
      }),
    delete: (userId, roomId, seq) =>
      this.run(() => {
        const key = sessionKey(userId, roomId);
        if ((this.readRows.get(key)?.seq ?? Infinity) <= seq) this.readRows.delete(key);
      }),
    listByUser: (userId) => this.run(() => [...this.readRows.values()].filter((row) => row.userId === userId).map(copy)),
  };
}
