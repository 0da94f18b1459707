// The PostgreSQL store (issue 16): the async storage contract against memory, SQLite and
// PostgreSQL alike, then what only many processes sharing one database can show: writers
// in different pools racing for seqs and for the same idempotency key, migrations racing,
// and PostgreSQL restarting under a write. One throwaway PostgreSQL for the whole file
// (test/support/services.mjs, fsync off); each test gets a database cloned from a migrated
// template, so tests never see each other's rows.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { User } from '@chat/sdk/protocol';
import { startPostgres, type RunningPostgres } from '../../../test/support/services.mjs';
import { optionsFromEnv } from '../src/config.js';
import { asAsync } from '../src/storage/async-storage.js';
import { MemoryStorage, SqliteStorage, isPostgresUrl, type NewMessage, withGroupCommit } from '../src/storage/index.js';
import { MIGRATIONS, PostgresStorage, migrate } from '../src/storage/postgres/index.js';
import { describeAsyncStorageContract } from './async-storage-contract.js';

let server: RunningPostgres;
let admin: pg.Pool;
let databases = 0;

const urlOf = (database: string) => server.url.replace(/\/postgres$/, `/${database}`);

/** An empty database (no schema) of its own. */
async function emptyDatabase(): Promise<string> {
  const name = `chat_${++databases}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
  return name;
}

/** A migrated database of its own: a copy of the template, far faster than migrating anew. */
async function migratedDatabase(): Promise<string> {
  const name = `chat_${++databases}`;
  await admin.query(`CREATE DATABASE ${name} TEMPLATE chat_template STRATEGY FILE_COPY`);
  return name;
}

const openStore = async (database: string, max = 4, more: { idleInTransactionTimeoutMs?: number } = {}) =>
  PostgresStorage.open({ url: urlOf(database), max, ...more });

beforeAll(async () => {
  server = await startPostgres({ fsync: false });
  admin = new pg.Pool({ connectionString: server.url, max: 2 });
  admin.on('error', () => {});
  await admin.query('CREATE DATABASE chat_template TEMPLATE template0');
  const template = await PostgresStorage.open(urlOf('chat_template'));
  await template.close(); // a template may have no open connections while it is copied
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await server?.stop();
}, 30_000);

describeAsyncStorageContract('memory', async () => asAsync(new MemoryStorage()));
describeAsyncStorageContract('sqlite', async () => asAsync(new SqliteStorage(':memory:')));
describeAsyncStorageContract('sqlite, group-committed', async () => withGroupCommit(new SqliteStorage(':memory:')));
describeAsyncStorageContract('postgres', async () => openStore(await migratedDatabase()));

describe('postgres: many processes, one database', () => {
  let t = 10_000;
  const userIn = (s: PostgresStorage, email: string): Promise<User> => s.createUser({ id: `u-${email}`, email, name: email, createdAt: ++t });
  const msg = (roomId: string, senderId: string, clientId: string, id = `m-${senderId}-${clientId}`): NewMessage => ({
    id, roomId, senderId, clientId, text: clientId, image: null, createdAt: ++t,
  });

  test('3 pools writing into one room at once: seqs 1..N without gaps or repeats, lastSeq N', async () => {
    const database = await migratedDatabase();
    const stores = await Promise.all([openStore(database), openStore(database), openStore(database)]);
    try {
      const [a, b, c] = [await userIn(stores[0]!, 'a@x.io'), await userIn(stores[0]!, 'b@x.io'), await userIn(stores[0]!, 'c@x.io')];
      await stores[0]!.createRoom({ id: 'r', name: null, memberIds: [a.id, b.id, c.id], createdBy: a.id, createdAt: ++t });
      const senders = [a, b, c];
      const perPool = 20;
      const results = await Promise.all(
        stores.flatMap((store, p) => Array.from({ length: perPool }, (_, i) => store.createMessage(msg('r', senders[p]!.id, `p${p}-${i}`)))),
      );
      const n = stores.length * perPool;
      expect(results.every((r) => !r.duplicate)).toBe(true);
      expect(results.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const stored = await stores[1]!.getMessages('r', { after: 0, limit: n + 10 });
      expect(stored.messages.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      // What each writer was told is what is stored.
      const byId = new Map(stored.messages.map((m) => [m.id, m]));
      for (const { message } of results) expect(byId.get(message.id)).toEqual(message);
      expect((await stores[2]!.getRoom('r'))!.lastSeq).toBe(n);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('the same (sender, clientId) sent through two pools at once: one row, both told the same message, no seq lost', async () => {
    const database = await migratedDatabase();
    const [one, two] = await Promise.all([openStore(database), openStore(database)]);
    try {
      const a = await userIn(one, 'a@x.io');
      await one.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
      const keys = 15;
      const pairs = await Promise.all(
        Array.from({ length: keys }, (_, k) =>
          Promise.all([one.createMessage(msg('r', a.id, `dup${k}`, `one-${k}`)), two.createMessage(msg('r', a.id, `dup${k}`, `two-${k}`))]),
        ),
      );
      for (const [x, y] of pairs) {
        expect(x.message).toEqual(y.message);
        expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
      }
      const stored = await two.getMessages('r', { after: 0, limit: 100 });
      expect(stored.messages).toHaveLength(keys);
      expect(stored.messages.map((m) => m.seq)).toEqual(Array.from({ length: keys }, (_, i) => i + 1));
      expect((await one.getRoom('r'))!.lastSeq).toBe(keys);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('reactions to one message from 3 pools at once: none lost, revs 1..N without gaps', async () => {
    const database = await migratedDatabase();
    const stores = await Promise.all([openStore(database), openStore(database), openStore(database)]);
    try {
      const users = await Promise.all(Array.from({ length: 6 }, (_, i) => userIn(stores[0]!, `r${i}@x.io`)));
      await stores[0]!.createRoom({ id: 'r', name: null, memberIds: users.map((u) => u.id), createdBy: users[0]!.id, createdAt: ++t });
      const { message } = await stores[0]!.createMessage(msg('r', users[0]!.id, 'm'));
      const emoji = ['👍', '🎉', '❤️', '😂'];
      const results = await Promise.all(users.flatMap((u, i) => emoji.map((e, j) =>
        stores[(i + j) % 3]!.changeMessage({ kind: 'react', emoji: e, on: true, messageId: message.id, userId: u.id, clientChangeId: `${e}-${i}` }))));
      const n = users.length * emoji.length;
      expect(results.every((r) => r.changed && !r.duplicate)).toBe(true);
      expect(results.map((r) => r.message.rev).sort((x, y) => x! - y!)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
      const stored = (await stores[1]!.getMessage(message.id))!;
      expect(stored.rev).toBe(n);
      for (const e of emoji) expect([...stored.reactions![e]!].sort()).toEqual(users.map((u) => u.id).sort());
      expect((await stores[2]!.getRoom('r'))!.lastRev).toBe(n);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  test('two pools signing up the same email at once: one user, the other told CONFLICT', async () => {
    const database = await migratedDatabase();
    const [one, two] = await Promise.all([openStore(database), openStore(database)]);
    try {
      const outcomes = await Promise.allSettled([
        one.createUser({ id: 'u1', email: 'same@x.io', name: 'one', createdAt: 1 }),
        two.createUser({ id: 'u2', email: 'same@x.io', name: 'two', createdAt: 1 }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
      expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'CONFLICT' } });
      expect(await one.getUsersByIds(['u1', 'u2'])).toHaveLength(1);
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  test('migrations racing from two pools end with one schema, each step applied once; again is a no-op; a newer schema is refused', async () => {
    const database = await emptyDatabase();
    const pools = [0, 1, 2].map(() => new pg.Pool({ connectionString: urlOf(database), max: 2 }));
    try {
      const applied = await Promise.all(pools.map((pool) => migrate(pool)));
      expect(applied.flat().sort((x, y) => x - y)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      const { rows } = await pools[0]!.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
      expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((_, i) => i + 1));
      expect(await migrate(pools[1]!)).toEqual([]);
      // The store opens on the raced schema and works.
      const store = await openStore(database);
      const a = await userIn(store, 'a@x.io');
      await store.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
      expect((await store.createMessage(msg('r', a.id, 'k'))).message.seq).toBe(1);
      await store.close();
      await pools[0]!.query('INSERT INTO schema_migrations (version) VALUES ($1)', [MIGRATIONS.length + 1]);
      await expect(migrate(pools[2]!)).rejects.toThrow(/newer server/);
      await expect(openStore(database)).rejects.toMatchObject({ code: 'INTERNAL' });
    } finally {
      await Promise.all(pools.map((pool) => pool.end()));
    }
  });

  test('a process stalled mid-write does not hold the room: PostgreSQL ends its transaction, the others write on', async () => {
    const database = await migratedDatabase();
    const [stalled, other] = await Promise.all([openStore(database, 2, { idleInTransactionTimeoutMs: 300 }), openStore(database)]);
    try {
      const a = await userIn(other, 'a@x.io');
      await other.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
      let release = () => {};
      const held = new Promise<void>((resolve) => { release = resolve; });
      // The hook stalls with the room's row lock held, until told to go on.
      const stuck = stalled.createMessage(msg('r', a.id, 'stuck'), { beforeCommit: () => held });
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      expect((await other.createMessage(msg('r', a.id, 'next'))).message.seq).toBe(1); // waited for the timeout, not for the hook
      expect(Date.now() - started).toBeLessThan(5_000);
      release();
      await expect(stuck).rejects.toMatchObject({ code: 'INTERNAL', retryable: true });
      expect(await other.getMessageByClientId(a.id, 'stuck')).toBeUndefined();
      expect((await stalled.createMessage(msg('r', a.id, 'stuck'))).message.seq).toBe(2); // its retry
    } finally {
      await Promise.all([stalled.close(), other.close()]);
    }
  });

  test('PostgreSQL restarting under a write: it fails with a retryable INTERNAL and leaves nothing; calls meanwhile fail fast with INTERNAL; all work again after', async () => {
    const database = await migratedDatabase();
    const [store, other] = await Promise.all([openStore(database), openStore(database)]);
    try {
      const a = await userIn(store, 'a@x.io');
      await store.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
      await store.createMessage(msg('r', a.id, 'one'));
      expect(await other.getUser(a.id)).toEqual(a); // a pooled connection that the restart will close

      // The server goes down and comes back between the write's rows and its COMMIT; while
      // it is down, another process (pool) keeps calling.
      const meanwhile: unknown[] = [];
      const cut = store.createMessage(msg('r', a.id, 'two'), {
        beforeCommit: async () => {
          let up = false;
          const restarting = server.restart().then(() => { up = true; });
          while (!up) {
            await other.getUser(a.id).catch((error: unknown) => meanwhile.push(error));
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          await restarting;
        },
      });
      await expect(cut).rejects.toMatchObject({ name: 'ChatError', code: 'INTERNAL', retryable: true });
      expect(meanwhile.length).toBeGreaterThan(0);
      for (const error of meanwhile) expect(error).toMatchObject({ name: 'ChatError', code: 'INTERNAL', retryable: true });

      // Nothing of the cut write was kept: no row, no seq taken.
      expect(await store.getMessageByClientId(a.id, 'two')).toBeUndefined();
      expect((await other.getRoom('r'))!.lastSeq).toBe(1);
      // Both pools work again; the retry (same key) gets the next seq.
      expect(await other.getUser(a.id)).toEqual(a);
      expect(await store.createMessage(msg('r', a.id, 'two'))).toMatchObject({ message: { seq: 2 }, duplicate: false });
      expect((await other.createMessage(msg('r', a.id, 'three'))).message.seq).toBe(3);
    } finally {
      await Promise.all([store.close(), other.close()]);
    }
  }, 30_000);
});

test('CHAT_DB=postgres://… is kept as the url of the PostgreSQL store, not taken for a SQLite file name', () => {
  for (const url of ['postgres://chat@db/chat', 'postgresql://db/chat', 'POSTGRES://db/chat']) {
    expect(optionsFromEnv({ CHAT_DB: url }).db).toBe(url);
    expect(isPostgresUrl(url)).toBe(true);
  }
  expect(isPostgresUrl('./postgres.sqlite')).toBe(false);
  expect(optionsFromEnv({ CHAT_DB: 'memory' }).db).toBe('memory');
});
