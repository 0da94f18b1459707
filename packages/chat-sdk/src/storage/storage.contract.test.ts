import * as fakeIdb from 'fake-indexeddb';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Message, Room } from '../protocol/index.js';
import { openStorage } from './open-storage.js';
import { CACHE_MESSAGES_PER_ROOM, type ChangeRow, type ChatStorage, type DraftRow, type OutboxRow } from './types.js';

/** One suite, two implementations: memory and IndexedDB must not differ in anything observable. */
const kinds = [
  { kind: 'memory' as const, open: () => openStorage({ kind: 'memory' }) },
  {
    kind: 'indexeddb' as const,
    open: () => openStorage({ indexedDB: new IDBFactory(), onFallback: (reason) => { throw new Error(reason); } }),
  },
];

function outboxRow(clientId: string, order: number, extra: Partial<OutboxRow> = {}): OutboxRow {
  return {
    clientId, userId: 'u1', roomId: 'r1', text: `hi ${clientId}`, image: null, uploadedImage: null,
    createdAt: 1_000 + order, order, attempts: 0, lastError: null, status: 'pending', ...extra,
  };
}

function draftRow(userId: string, roomId: string, extra: Partial<DraftRow> = {}): DraftRow {
  return { key: `${userId}_${roomId}`, userId, roomId, text: 'draft', image: null, updatedAt: 5, ...extra };
}

function message(seq: number, roomId = 'r1'): Message {
  return { id: `m${seq}`, roomId, senderId: 'u2', clientId: `c${seq}`, seq, text: `t${seq}`, image: null, createdAt: seq };
}

function room(id: string): Room {
  return { id, name: null, memberIds: ['u1', 'u2'], createdBy: 'u1', createdAt: 1, lastSeq: 0, lastMessage: null };
}

// idb checks `instanceof IDBRequest` etc. on globals; install the classes, but no global
// `indexedDB`: each test brings its own fresh factory.
beforeAll(() => {
  for (const name of ['IDBRequest', 'IDBOpenDBRequest', 'IDBDatabase', 'IDBTransaction', 'IDBObjectStore', 'IDBIndex', 'IDBCursor', 'IDBCursorWithValue', 'IDBKeyRange'] as const) {
    vi.stubGlobal(name, fakeIdb[name]);
  }
});

const bytes = async (blob: Blob | null | undefined) => (blob ? [...new Uint8Array(await blob.arrayBuffer())] : null);

describe.each(kinds)('ChatStorage contract: $kind', ({ kind, open }) => {
  let storage: ChatStorage;
  afterEach(() => storage?.close());

  it(`opens as ${kind}`, async () => {
    storage = await open();
    expect(storage.kind).toBe(kind);
  });

  it('outbox: put, get, overwrite, delete', async () => {
    storage = await open();
    expect(await storage.outbox.get('a')).toBeUndefined();
    await storage.outbox.put(outboxRow('a', 1));
    expect(await storage.outbox.get('a')).toEqual(outboxRow('a', 1));
    const failed = outboxRow('a', 1, { attempts: 3, status: 'failed', lastError: { code: 'FORBIDDEN', retryable: false, message: 'no' } });
    await storage.outbox.put(failed);
    expect(await storage.outbox.get('a')).toEqual(failed);
    await storage.outbox.delete('a');
    await storage.outbox.delete('a');
    expect(await storage.outbox.get('a')).toBeUndefined();
  });

  it('outbox: listByUser returns only that user, in FIFO order', async () => {
    storage = await open();
    await storage.outbox.put(outboxRow('c', 3));
    await storage.outbox.put(outboxRow('a', 10));
    await storage.outbox.put(outboxRow('b', 2, { roomId: 'r2' }));
    await storage.outbox.put(outboxRow('x', 1, { userId: 'u2' }));
    expect((await storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['b', 'c', 'a']);
    expect((await storage.outbox.listByUser('u2')).map((r) => r.clientId)).toEqual(['x']);
    expect(await storage.outbox.listByUser('nobody')).toEqual([]);
  });

  it('hands out copies: changing a row read does not change the stored one', async () => {
    storage = await open();
    const row = outboxRow('a', 1, { uploadedImage: { url: 'https://x/u/1', mime: 'image/png', size: 3 } });
    await storage.outbox.put(row);
    row.text = 'changed after put';
    const read = await storage.outbox.get('a');
    expect(read?.text).toBe('hi a');
    if (read?.uploadedImage) read.uploadedImage.size = 99;
    expect((await storage.outbox.get('a'))?.uploadedImage?.size).toBe(3);
  });

  it('round-trips Blobs in the outbox and in drafts (bytes and type)', async () => {
    storage = await open();
    const image = new Blob([new Uint8Array([137, 80, 78, 71, 0, 255])], { type: 'image/png' });
    await storage.outbox.put(outboxRow('a', 1, { image }));
    await storage.drafts.put(draftRow('u1', 'r1', { image }));
    const fromOutbox = (await storage.outbox.get('a'))?.image;
    const fromDrafts = (await storage.drafts.get('u1', 'r1'))?.image;
    expect(await bytes(fromOutbox)).toEqual([137, 80, 78, 71, 0, 255]);
    expect(await bytes(fromDrafts)).toEqual([137, 80, 78, 71, 0, 255]);
    expect(fromOutbox?.type).toBe('image/png');
    if (kind === 'memory') expect(fromOutbox).toBe(image); // memory keeps the Blob itself
  });

  it('drafts: keyed by user and room, deleted one by one or per user', async () => {
    storage = await open();
    await storage.drafts.put(draftRow('u1', 'r1'));
    await storage.drafts.put(draftRow('u1', 'r2', { text: 'other' }));
    await storage.drafts.put(draftRow('u2', 'r1'));
    expect(await storage.drafts.get('u1', 'r2')).toEqual(draftRow('u1', 'r2', { text: 'other' }));
    expect(await storage.drafts.get('u1', 'r3')).toBeUndefined();
    await storage.drafts.delete('u1', 'r1');
    expect(await storage.drafts.get('u1', 'r1')).toBeUndefined();
    await storage.drafts.put(draftRow('u1', 'r1'));
    await storage.drafts.deleteByUser('u1');
    expect(await storage.drafts.get('u1', 'r1')).toBeUndefined();
    expect(await storage.drafts.get('u1', 'r2')).toBeUndefined();
    expect(await storage.drafts.get('u2', 'r1')).toEqual(draftRow('u2', 'r1'));
  });

  it('sessions: one per user of a server; the newest is the one a new tab resumes', async () => {
    storage = await open();
    const ada = { id: 'u1', email: 'ada@example.com', name: 'Ada', createdAt: 1 };
    const bob = { id: 'u2', email: 'bob@example.com', name: 'Bob', createdAt: 1 };
    await storage.sessions.put({ scope: 'ws://one', userId: ada.id, user: ada, token: 'a1', savedAt: 1 });
    await storage.sessions.put({ scope: 'ws://one', userId: bob.id, user: bob, token: 'b1', savedAt: 2 });
    await storage.sessions.put({ scope: 'ws://two', userId: ada.id, user: ada, token: 'a2', savedAt: 3 });
    expect((await storage.sessions.latest('ws://one'))?.token).toBe('b1');
    expect((await storage.sessions.get('ws://one', ada.id))?.token).toBe('a1');
    // Ada comes back: she is the most recent again.
    await storage.sessions.put({ scope: 'ws://one', userId: ada.id, user: ada, token: 'a1', savedAt: 4 });
    expect((await storage.sessions.latest('ws://one'))?.userId).toBe(ada.id);
    // Signing one person out leaves the others.
    await storage.sessions.delete('ws://one', ada.id);
    expect(await storage.sessions.get('ws://one', ada.id)).toBeUndefined();
    expect((await storage.sessions.latest('ws://one'))?.token).toBe('b1');
    expect((await storage.sessions.latest('ws://two'))?.token).toBe('a2');
    await storage.sessions.delete('ws://one', bob.id);
    expect(await storage.sessions.latest('ws://one')).toBeUndefined();
  });

  it('reads: one pending cursor per (user, room), coalesced to the highest; deleted only up to the acknowledged seq', async () => {
    storage = await open();
    expect(await storage.reads.listByUser('u1')).toEqual([]);
    await storage.reads.put({ userId: 'u1', roomId: 'r1', seq: 3 });
    await storage.reads.put({ userId: 'u1', roomId: 'r1', seq: 2 }); // lower: kept at 3
    await storage.reads.put({ userId: 'u1', roomId: 'r2', seq: 1 });
    await storage.reads.put({ userId: 'u2', roomId: 'r1', seq: 9 });
    const byRoom = (rows: { roomId: string }[]) => [...rows].sort((a, b) => (a.roomId < b.roomId ? -1 : 1));
    expect(byRoom(await storage.reads.listByUser('u1'))).toEqual([
      { userId: 'u1', roomId: 'r1', seq: 3 },
      { userId: 'u1', roomId: 'r2', seq: 1 },
    ]);
    await storage.reads.put({ userId: 'u1', roomId: 'r1', seq: 5 });
    await storage.reads.delete('u1', 'r1', 3); // an acknowledgement of 3 must not drop the 5 still to send
    expect(byRoom(await storage.reads.listByUser('u1'))[0]).toEqual({ userId: 'u1', roomId: 'r1', seq: 5 });
    await storage.reads.delete('u1', 'r1', 5);
    await storage.reads.delete('u1', 'nope', 5);
    expect(await storage.reads.listByUser('u1')).toEqual([{ userId: 'u1', roomId: 'r2', seq: 1 }]);
    expect(await storage.reads.listByUser('u2')).toEqual([{ userId: 'u2', roomId: 'r1', seq: 9 }]);
  });

  it('cache: the room list is replaced whole and keeps its order', async () => {
    storage = await open();
    expect(await storage.cache.getRooms('u1')).toEqual([]);
    await storage.cache.putRooms('u1', [room('b'), room('a')]);
    await storage.cache.putRooms('u2', [room('z')]);
    expect((await storage.cache.getRooms('u1')).map((r) => r.id)).toEqual(['b', 'a']);
    await storage.cache.putRooms('u1', [room('c')]);
    expect((await storage.cache.getRooms('u1')).map((r) => r.id)).toEqual(['c']);
  });

  it('cache: messages merge by seq, ascending, newest kept, protocol fields only', async () => {
    storage = await open();
    expect(await storage.cache.getMessages('u1', 'r1')).toEqual([]);
    await storage.cache.putMessages('u1', 'r1', [message(5), message(3)]);
    // Extra fields of a store's ChatMessage (status, a local Blob) are not cached.
    const local = { ...message(4), status: 'sent', localImage: new Blob(['x']) } as Message;
    await storage.cache.putMessages('u1', 'r1', [message(5), local]);
    expect(await storage.cache.getMessages('u1', 'r1')).toEqual([message(3), message(4), message(5)]);

    const many = Array.from({ length: CACHE_MESSAGES_PER_ROOM + 20 }, (_, i) => message(i + 1));
    await storage.cache.putMessages('u1', 'r1', many.slice(60));
    await storage.cache.putMessages('u1', 'r1', many.slice(0, 60));
    const kept = await storage.cache.getMessages('u1', 'r1');
    expect(kept).toHaveLength(CACHE_MESSAGES_PER_ROOM);
    expect(kept[0]?.seq).toBe(21);
    expect(kept.at(-1)?.seq).toBe(120);
    expect(await storage.cache.getMessages('u1', 'r2')).toEqual([]);
  });

  it('cache: deleteMessages forgets one room of one user', async () => {
    storage = await open();
    await storage.cache.putMessages('u1', 'r1', [message(1)]);
    await storage.cache.putMessages('u1', 'r2', [message(1, 'r2')]);
    await storage.cache.putMessages('u2', 'r1', [message(1)]);
    await storage.cache.deleteMessages('u1', 'r1');
    await storage.cache.deleteMessages('u1', 'never-held');
    expect(await storage.cache.getMessages('u1', 'r1')).toEqual([]);
    expect(await storage.cache.getMessages('u1', 'r2')).toEqual([message(1, 'r2')]);
    expect(await storage.cache.getMessages('u2', 'r1')).toEqual([message(1)]);
  });

  it('cache: clearUser forgets rooms and messages of that user only', async () => {
    storage = await open();
    await storage.cache.putRooms('u1', [room('r1')]);
    await storage.cache.putMessages('u1', 'r1', [message(1)]);
    await storage.cache.putMessages('u1', 'r2', [message(1, 'r2')]);
    await storage.cache.putMessages('u2', 'r1', [message(1)]);
    await storage.drafts.put(draftRow('u1', 'r1'));
    await storage.outbox.put(outboxRow('a', 1));
    await storage.cache.clearUser('u1');
    expect(await storage.cache.getRooms('u1')).toEqual([]);
    expect(await storage.cache.getMessages('u1', 'r1')).toEqual([]);
    expect(await storage.cache.getMessages('u1', 'r2')).toEqual([]);
    expect(await storage.cache.getMessages('u2', 'r1')).toEqual([message(1)]);
    expect(await storage.drafts.get('u1', 'r1')).toBeDefined();
    expect(await storage.outbox.get('a')).toBeDefined();
  });

  it('changes: put, overwrite, delete, listByUser in FIFO order for that user only', async () => {
    storage = await open();
    const change = (id: string, order: number, userId = 'u1'): ChangeRow => ({
      clientChangeId: id, userId, roomId: 'r1', messageId: null, clientId: 'c1', senderId: userId,
      op: { kind: 'react', emoji: '👍', on: true }, createdAt: 1, order, attempts: 0, lastError: null, status: 'pending',
    });
    await storage.changes.put(change('b', 2));
    await storage.changes.put(change('a', 1));
    await storage.changes.put(change('x', 0, 'u2'));
    await storage.changes.put({ ...change('b', 2), status: 'failed' });
    expect((await storage.changes.listByUser('u1')).map((r) => [r.clientChangeId, r.status])).toEqual([['a', 'pending'], ['b', 'failed']]);
    await storage.changes.delete('a');
    expect((await storage.changes.listByUser('u1')).map((r) => r.clientChangeId)).toEqual(['b']);
  });

  it('cache: updateMessages replaces held messages by a newer rev only, adds none, and raises the room\'s rev', async () => {
    storage = await open();
    await storage.cache.putMessages('u1', 'r1', [message(1), message(2)]);
    const edited = { ...message(1), text: 'edited', rev: 2, editedAt: 5 };
    await storage.cache.updateMessages('u1', 'r1', [edited, { ...message(9), rev: 1 }], 2);
    expect(await storage.cache.getMessages('u1', 'r1')).toEqual([edited, message(2)]);
    // An older copy (by rev) changes nothing, by update or by put.
    await storage.cache.updateMessages('u1', 'r1', [{ ...message(1), rev: 1 }], 1);
    await storage.cache.putMessages('u1', 'r1', [message(1)]);
    expect((await storage.cache.getMessages('u1', 'r1'))[0]).toEqual(edited);
    expect(await storage.cache.getRevs('u1')).toEqual({ r1: 2 });
    // A room nobody cached keeps its counter alone.
    await storage.cache.updateMessages('u1', 'r2', [], 0);
    expect(await storage.cache.getRevs('u1')).toEqual({ r1: 2, r2: 0 });
    await storage.cache.deleteMessages('u1', 'r2');
    expect(await storage.cache.getRevs('u1')).toEqual({ r1: 2 });
    await storage.cache.clearUser('u1');
    expect(await storage.cache.getRevs('u1')).toEqual({});
  });

  it('rejects calls once closed, with a CLOSED ChatError', async () => {
    storage = await open();
    storage.close();
    await expect(storage.outbox.get('a')).rejects.toMatchObject({ code: 'CLOSED' });
    await expect(storage.cache.getRooms('u1')).rejects.toMatchObject({ code: 'CLOSED' });
  });
});
