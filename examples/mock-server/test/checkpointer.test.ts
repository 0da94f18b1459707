import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { SqliteStorage, type NewMessage } from '../src/storage/index.js';
import { CHECKPOINT_EVERY_MESSAGES } from '../src/storage/sqlite.js';

/**
 * WAL checkpoints on their own thread (storage/checkpointer.ts): what the server's writes
 * put in the WAL reaches the database file without the server's thread copying it, and a
 * closing store still leaves everything in the file, as it did when it checkpointed itself.
 */

const dir = mkdtempSync(join(tmpdir(), 'chat-checkpointer-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const dbFile = () => join(dir, `chat-${++files}.sqlite`);

describe('checkpoints of a SQLite file', () => {
  let storage: SqliteStorage | undefined;
  afterEach(() => storage?.close());

  function open(file: string): SqliteStorage {
    storage = new SqliteStorage(file);
    return storage;
  }

  function roomOf(store: SqliteStorage, members: number): void {
    for (let i = 0; i < members; i++) store.createUser({ id: `u${i}`, email: `u${i}@example.com`, name: `u${i}`, createdAt: i });
    store.createRoom({ id: 'r1', name: null, memberIds: Array.from({ length: members }, (_, i) => `u${i}`), createdBy: 'u0', createdAt: 0 });
  }

  /** `batches` batches of `size` messages, a turn of the event loop between them, as the server writes them. */
  async function write(store: SqliteStorage, batches: number, size: number, from = 0): Promise<void> {
    let n = from;
    for (let b = 0; b < batches; b++) {
      const batch: Array<{ message: NewMessage }> = [];
      for (let i = 0; i < size; i++, n++) {
        batch.push({ message: { id: `m${n}`, roomId: 'r1', senderId: `u${n % 10}`, clientId: `c${n}`, text: `message ${n}`, image: null, createdAt: n } });
      }
      store.createMessages(batch);
      await turn();
    }
  }

  test('the thread copies the WAL into the database file: a copy of the file alone holds the messages', async () => {
    const file = dbFile();
    const store = open(file);
    roomOf(store, 10);
    await write(store, 4, CHECKPOINT_EVERY_MESSAGES / 2);
    // Asked for by the writes themselves (the thread starts on the first request).
    expect(store.checkpointer!.started).toBe(true);
    await store.checkpointer!.request(); // the one running, if any
    // Once the writes stop, one more checkpoint leaves nothing behind in the WAL.
    await store.checkpointer!.request();
    expect(store.checkpointer!.stats.checkpoints).toBeGreaterThan(0);
    expect(store.checkpointer!.stats.last).toMatchObject({ busy: 0 });
    const last = store.checkpointer!.stats.last as { log: number; checkpointed: number };
    expect(last.checkpointed).toBe(last.log);
    // The database file without its WAL: what a checkpoint wrote, and only that.
    const copy = `${file}-copy`;
    copyFileSync(file, copy);
    const alone = new SqliteStorage(copy);
    try {
      expect(alone.getRoom('r1')?.lastSeq).toBe(2 * CHECKPOINT_EVERY_MESSAGES);
    } finally {
      alone.close();
    }
  });

  test('a store closed right after a burst leaves its WAL empty and every message in the file, seqs gapless', async () => {
    const file = dbFile();
    const store = open(file);
    roomOf(store, 10);
    // Closed while the thread may be in the middle of a checkpoint.
    await write(store, 6, CHECKPOINT_EVERY_MESSAGES / 2);
    await write(store, 1, 7, 6 * (CHECKPOINT_EVERY_MESSAGES / 2));
    store.close();
    storage = undefined;
    const wal = `${file}-wal`;
    expect(existsSync(wal) ? statSync(wal).size : 0).toBe(0);
    const total = 3 * CHECKPOINT_EVERY_MESSAGES + 7;
    // The database file alone, without the WAL even if one were left.
    const copy = `${file}-copy`;
    copyFileSync(file, copy);
    const reopened = open(copy);
    expect(reopened.getRoom('r1')?.lastSeq).toBe(total);
    // The newest five: the n-th message written (from 0) has seq n + 1.
    const { messages } = reopened.getMessages('r1', { limit: 5, after: total - 5 });
    expect(messages.map((m) => [m.clientId, m.seq])).toEqual([1, 2, 3, 4, 5].map((i) => [`c${total - 6 + i}`, total - 5 + i]));
  });

  test('a store closed while its thread is still starting leaves nothing in the folder but the file, then or later', async () => {
    const file = dbFile();
    const store = open(file);
    roomOf(store, 10);
    // Exactly enough to start the thread; closed in the same turn, before it opened its connection.
    await write(store, 1, CHECKPOINT_EVERY_MESSAGES);
    store.close();
    storage = undefined;
    // A thread that outlived the store's close would open the file and make the WAL's files
    // again for a while (as a folder was being removed): looked for every millisecond.
    const seen = new Set<string>();
    for (const until = Date.now() + 300; Date.now() < until; await new Promise((resolve) => setTimeout(resolve, 1))) {
      for (const path of [`${file}-wal`, `${file}-shm`]) if (existsSync(path)) seen.add(path);
    }
    expect([...seen]).toEqual([]);
    const reopened = open(file);
    expect(reopened.getRoom('r1')?.lastSeq).toBe(CHECKPOINT_EVERY_MESSAGES);
  });

  test('a store in memory has no checkpoints and no thread', () => {
    const store = open(':memory:');
    roomOf(store, 10);
    expect(store.checkpointer).toBeUndefined();
  });
});
