import * as fakeIdb from 'fake-indexeddb';
import { IDBFactory } from 'fake-indexeddb';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { IdbStorage } from './idb-storage.js';
import { openStorage } from './open-storage.js';
import { DB_VERSION } from './schema.js';
import { CACHE_MESSAGES_PER_ROOM, type OutboxRow } from './types.js';
import type { Message } from '../protocol/index.js';

beforeAll(() => {
  for (const name of ['IDBRequest', 'IDBOpenDBRequest', 'IDBDatabase', 'IDBTransaction', 'IDBObjectStore', 'IDBIndex', 'IDBCursor', 'IDBCursorWithValue', 'IDBKeyRange'] as const) {
    vi.stubGlobal(name, fakeIdb[name]);
  }
});

const row = (clientId: string, order: number): OutboxRow => ({
  clientId, userId: 'u1', roomId: 'r1', text: 'hi', image: null, uploadedImage: null,
  createdAt: 1, order, attempts: 0, lastError: null, status: 'pending',
});

/** Raw IndexedDB, no idb: the test must not share the code it checks. */
function rawOpen(factory: IDBFactory, name: string, version: number, onUpgrade?: (db: IDBDatabase, tx: IDBTransaction) => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = factory.open(name, version);
    request.onupgradeneeded = () => onUpgrade?.(request.result, request.transaction as IDBTransaction);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
    request.onblocked = () => reject(new Error('blocked'));
  });
}

describe('IndexedDB storage', () => {
  it('opens a room that cached thousands of messages from one record: its newest, ascending, once each', async () => {
    const factory = new IDBFactory();
    const storage = await IdbStorage.open({ indexedDB: factory, name: 'big-room' });
    const message = (seq: number): Message => ({ id: `m${seq}`, roomId: 'r1', senderId: 'u2', clientId: `c${seq}`, seq, text: `text ${seq}`, image: null, createdAt: seq });
    const total = 3_000;
    // As the host caches deliveries: catch-up pages, and some delivered twice.
    for (let from = 1; from <= total; from += 100) {
      const page = Array.from({ length: 100 }, (_, i) => message(from + i));
      await storage.cache.putMessages('u1', 'r1', page);
      if (from % 700 === 1) await storage.cache.putMessages('u1', 'r1', page);
    }
    const reads = { records: 0 };
    const { get, getAll, openCursor } = fakeIdb.IDBObjectStore.prototype;
    const counting = <F extends (...args: never[]) => unknown>(fn: F) =>
      function (this: unknown, ...args: Parameters<F>) {
        reads.records++;
        return fn.apply(this, args);
      };
    const proto = fakeIdb.IDBObjectStore.prototype as unknown as Record<string, unknown>;
    Object.assign(proto, { get: counting(get), getAll: counting(getAll), openCursor: counting(openCursor) });
    try {
      const cached = await storage.cache.getMessages('u1', 'r1');
      expect(reads.records).toBe(1);
      expect(cached.map((m) => m.seq)).toEqual(Array.from({ length: CACHE_MESSAGES_PER_ROOM }, (_, i) => total - CACHE_MESSAGES_PER_ROOM + 1 + i));
    } finally {
      Object.assign(proto, { get, getAll, openCursor });
      storage.close();
    }
  });

  it('uses the database "chat-sdk" at the current version by default', async () => {
    const factory = new IDBFactory();
    const storage = await openStorage({ indexedDB: factory });
    expect(storage.kind).toBe('indexeddb');
    expect(await factory.databases()).toEqual([{ name: 'chat-sdk', version: DB_VERSION }]);
    storage.close();
  });

  it('upgrades a version 1 database step by step and keeps its rows', async () => {
    const factory = new IDBFactory();
    const v1 = await rawOpen(factory, 'chat-sdk', 1, (db) => {
      db.createObjectStore('outgoingMessages', { keyPath: 'clientId' }).createIndex('byUser', 'userId');
      db.createObjectStore('draftMessages', { keyPath: 'key' }).createIndex('byUser', 'userId');
    });
    await new Promise<void>((resolve, reject) => {
      const tx = v1.transaction(['outgoingMessages', 'draftMessages'], 'readwrite');
      tx.objectStore('outgoingMessages').put(row('old-2', 2));
      tx.objectStore('outgoingMessages').put(row('old-1', 1));
      tx.objectStore('draftMessages').put({ key: 'u1_r1', userId: 'u1', roomId: 'r1', text: 'kept', image: null, updatedAt: 1 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v1.close();

    const storage = await openStorage({ indexedDB: factory });
    expect(storage.kind).toBe('indexeddb');
    // The v2 index over [userId, order] was built over the old rows.
    expect((await storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['old-1', 'old-2']);
    expect((await storage.drafts.get('u1', 'r1'))?.text).toBe('kept');
    // The v2 stores exist and work.
    await storage.cache.putMessages('u1', 'r1', []);
    expect(await storage.sessions.latest('x')).toBeUndefined();
    storage.close();
  });

  it('upgrades a version 4 database to 5 (message changes) and keeps every row', async () => {
    const factory = new IDBFactory();
    // A database at 4, built by raw steps with the stores and indexes a 4 had, holding rows.
    const at4 = await rawOpen(factory, 'chat-sdk', 4, (db) => {
      const outbox = db.createObjectStore('outgoingMessages', { keyPath: 'clientId' });
      outbox.createIndex('byUser', 'userId');
      outbox.createIndex('byUserOrder', ['userId', 'order']);
      db.createObjectStore('draftMessages', { keyPath: 'key' }).createIndex('byUser', 'userId');
      db.createObjectStore('sessions', { keyPath: 'scope' });
      db.createObjectStore('rooms', { keyPath: 'userId' });
      db.createObjectStore('messages', { keyPath: ['userId', 'roomId'] }).createIndex('byUser', 'userId');
      db.createObjectStore('userSessions', { keyPath: ['scope', 'userId'] }).createIndex('byScope', 'scope');
      db.createObjectStore('pendingReads', { keyPath: ['userId', 'roomId'] }).createIndex('byUser', 'userId');
    });
    await new Promise<void>((resolve, reject) => {
      const tx = at4.transaction(['outgoingMessages', 'pendingReads', 'messages'], 'readwrite');
      tx.objectStore('outgoingMessages').put(row('kept', 1));
      tx.objectStore('pendingReads').put({ userId: 'u1', roomId: 'r1', seq: 3 });
      tx.objectStore('messages').put({ userId: 'u1', roomId: 'r1', messages: [], savedAt: 1 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    at4.close();
    const storage = await openStorage({ indexedDB: factory });
    expect((await storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['kept']);
    expect(await storage.reads.listByUser('u1')).toEqual([{ userId: 'u1', roomId: 'r1', seq: 3 }]);
    expect(await storage.changes.listByUser('u1')).toEqual([]);
    expect(await storage.cache.getRevs('u1')).toEqual({});
    expect(DB_VERSION).toBe(5);
    storage.close();
  });

  it('moves the one session of a version 2 database into the per-user sessions of version 3', async () => {
    const factory = new IDBFactory();
    const user = { id: 'u1', email: 'ada@example.com', name: 'Ada', createdAt: 1 };
    const v2 = await rawOpen(factory, 'chat-sdk', 2, (db) => {
      const outbox = db.createObjectStore('outgoingMessages', { keyPath: 'clientId' });
      outbox.createIndex('byUser', 'userId');
      outbox.createIndex('byUserOrder', ['userId', 'order']);
      db.createObjectStore('draftMessages', { keyPath: 'key' }).createIndex('byUser', 'userId');
      db.createObjectStore('sessions', { keyPath: 'scope' });
      db.createObjectStore('rooms', { keyPath: 'userId' });
      db.createObjectStore('messages', { keyPath: ['userId', 'roomId'] }).createIndex('byUser', 'userId');
    });
    await new Promise<void>((resolve, reject) => {
      const tx = v2.transaction('sessions', 'readwrite');
      tx.objectStore('sessions').put({ scope: 'ws://one', user, token: 'kept-token', savedAt: 5 });
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
    v2.close();

    const storage = await openStorage({ indexedDB: factory });
    expect(storage.kind).toBe('indexeddb');
    // A reload after the upgrade resumes the same person.
    expect(await storage.sessions.latest('ws://one')).toEqual({ scope: 'ws://one', userId: 'u1', user, token: 'kept-token', savedAt: 5 });
    storage.close();
  });

  it('steps aside when newer code asks for a higher version, and reopens lazily', async () => {
    const factory = new IDBFactory();
    const storage = (await openStorage({ indexedDB: factory })) as IdbStorage;
    await storage.outbox.put(row('a', 1));

    // A tab with newer code upgrades; it is not blocked, because we close on versionchange.
    const newer = await rawOpen(factory, 'chat-sdk', DB_VERSION + 1, (db) => db.createObjectStore('somethingNew'));
    newer.close();

    // Our next call opens a new connection (at the newer version: our stores are all still there).
    expect((await storage.outbox.get('a'))?.clientId).toBe('a');
    expect(storage.opens).toBe(2);
    await storage.outbox.put(row('b', 2));
    expect((await storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['a', 'b']);
    expect(storage.opens).toBe(2);
    storage.close();
  });

  it('opens a database that newer code already upgraded, when our stores are all there', async () => {
    const factory = new IDBFactory();
    (await openStorage({ indexedDB: factory })).close();
    (await rawOpen(factory, 'chat-sdk', DB_VERSION + 1, (db) => db.createObjectStore('somethingNew'))).close();
    const onFallback = vi.fn();
    const storage = await openStorage({ indexedDB: factory, onFallback });
    expect(storage.kind).toBe('indexeddb');
    expect(onFallback).not.toHaveBeenCalled();
    await storage.drafts.put({ key: 'u1_r1', userId: 'u1', roomId: 'r1', text: 't', image: null, updatedAt: 1 });
    expect((await storage.drafts.get('u1', 'r1'))?.text).toBe('t');
    storage.close();
  });

  it('two connections at the same version live side by side', async () => {
    const factory = new IDBFactory();
    const one = await openStorage({ indexedDB: factory });
    const two = await openStorage({ indexedDB: factory });
    await one.outbox.put(row('a', 1));
    expect((await two.outbox.get('a'))?.clientId).toBe('a');
    one.close();
    two.close();
  });

  it('sorts listByUser in memory when no IDBKeyRange is at hand', async () => {
    vi.stubGlobal('IDBKeyRange', undefined);
    try {
      const storage = await openStorage({ indexedDB: new IDBFactory() });
      await storage.outbox.put(row('c', 3));
      await storage.outbox.put(row('a', 1));
      await storage.outbox.put({ ...row('z', 0), userId: 'u2' });
      await storage.outbox.put(row('b', 2));
      expect((await storage.outbox.listByUser('u1')).map((r) => r.clientId)).toEqual(['a', 'b', 'c']);
      storage.close();
    } finally {
      vi.stubGlobal('IDBKeyRange', fakeIdb.IDBKeyRange);
    }
  });
});

describe('falling back to memory', () => {
  it('uses memory when there is no IndexedDB, and says so once', async () => {
    const onFallback = vi.fn();
    const storage = await openStorage({ onFallback });
    expect(storage.kind).toBe('memory');
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]?.[0]).toMatch(/not available/);
    await storage.outbox.put(row('a', 1));
    expect((await storage.outbox.get('a'))?.clientId).toBe('a');
  });

  it('uses memory when open throws (as in some private modes)', async () => {
    const onFallback = vi.fn();
    const throwing = { open: () => { throw new DOMException('private mode', 'InvalidStateError'); } } as unknown as IDBFactory;
    const storage = await openStorage({ indexedDB: throwing, onFallback });
    expect(storage.kind).toBe('memory');
    expect(onFallback).toHaveBeenCalledTimes(1);
    expect(onFallback.mock.calls[0]?.[0]).toMatch(/InvalidStateError: private mode/);
  });

  it('uses memory when the open request fails', async () => {
    const factory = new IDBFactory();
    // A database from the future that lacks our stores cannot be used.
    (await rawOpen(factory, 'chat-sdk', DB_VERSION + 5)).close();
    const onFallback = vi.fn();
    const storage = await openStorage({ indexedDB: factory, onFallback });
    expect(storage.kind).toBe('memory');
    expect(onFallback.mock.calls[0]?.[0]).toMatch(/VersionError/);
  });

  it('never touches IndexedDB when asked for memory', async () => {
    const onFallback = vi.fn();
    const open = vi.fn();
    const storage = await openStorage({ kind: 'memory', indexedDB: { open } as unknown as IDBFactory, onFallback });
    expect(storage.kind).toBe('memory');
    expect(open).not.toHaveBeenCalled();
    expect(onFallback).not.toHaveBeenCalled();
  });

  it('works over a factory passed without the IndexedDB classes as globals', async () => {
    vi.stubGlobal('IDBRequest', undefined);
    vi.stubGlobal('IDBTransaction', undefined);
    try {
      const onFallback = vi.fn();
      const storage = await openStorage({ indexedDB: new IDBFactory(), onFallback });
      expect(storage.kind).toBe('indexeddb');
      expect(onFallback).not.toHaveBeenCalled();
      await storage.outbox.put(row('a', 1));
      expect((await storage.outbox.get('a'))?.clientId).toBe('a');
      storage.close();
    } finally {
      vi.stubGlobal('IDBRequest', fakeIdb.IDBRequest);
      vi.stubGlobal('IDBTransaction', fakeIdb.IDBTransaction);
    }
  });
});
