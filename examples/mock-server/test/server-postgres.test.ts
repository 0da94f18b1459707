// The real server over a real socket on PostgreSQL (CHAT_DB=postgres://…, issue 16): sign-up,
// rooms and gapless seqs through the async handlers; a restart on the same database keeps
// everything (a token from before signs in); and two servers on one database (with the Redis
// a second process needs, or it refuses to start) store a message once and both read it.
// Events and shared state across processes are the cluster project's (test/cluster/).
import pg from 'pg';
import { afterAll, beforeAll, expect, onTestFinished, test } from 'vitest';
import { PROTOCOL_VERSION } from '@chat/sdk/protocol';
import { startServer, TEST_SERVER_OPTIONS, type RunningServer } from '../src/index.js';
import { startRedis } from '../../../test/support/services.mjs';
import { PostgresDatabases } from './postgres-databases.js';
import { TestClient, createRoom, sendText, signUp } from './helpers.js';

let databases: PostgresDatabases;
const servers = new Set<RunningServer>();
const clients = new Set<TestClient>();

async function start(db: string, more: { port?: number; redis?: string } = {}): Promise<RunningServer> {
  const server = await startServer({ ...TEST_SERVER_OPTIONS, db, ...more });
  servers.add(server);
  return server;
}

const track = <T extends TestClient | { client: TestClient }>(value: T): T => {
  clients.add(value instanceof TestClient ? value : value.client);
  return value;
};

beforeAll(async () => {
  databases = await PostgresDatabases.start('chat_server');
}, 60_000);

afterAll(async () => {
  for (const client of clients) client.close();
  await Promise.all([...servers].map((server) => server.close()));
  await databases?.stop();
}, 30_000);

test('on PostgreSQL: sign-up, a room, messages with gapless seqs; a restart keeps history and sessions', async () => {
  const db = await databases.create();
  const first = await start(db);
  const a = track(await signUp(first, 'Ann'));
  const b = track(await signUp(first, 'Ben'));
  expect(await a.client.fail('create_user', { email: a.user.email })).toBe('CONFLICT');
  const room = await createRoom(a.client, [b.user.id], 'on postgres');
  const created = b.client.waitForEvent('message_created', (d) => d.message.clientId === 'm-5');
  // Pipelined: five requests sent at once are answered in the order they were sent.
  const ids = [1, 2, 3, 4, 5].map((i) => a.client.send('create_message', { roomId: room.id, clientId: `m-${i}`, text: `hello ${i}` }));
  const replies = await Promise.all(ids.map((id) => a.client.waitReply(id)));
  expect(replies.map((r) => r.data.message.seq)).toEqual([1, 2, 3, 4, 5]);
  const order = a.client.frames.filter((f) => f.type === 'reply' && ids.includes(f.requestId)).map((f) => (f as { requestId: string }).requestId);
  expect(order).toEqual(ids);
  expect((await created).data.message.text).toBe('hello 5');
  // A repeat of a clientId is the stored message, not a second one.
  const again = await sendText(a.client, room.id, 'other text', 'm-3');
  expect(again).toMatchObject({ duplicate: true, message: { seq: 3, text: 'hello 3' } });

  await first.close();
  servers.delete(first);

  const second = await start(db);
  // A session token from before the restart signs in again.
  const back = track(await TestClient.open(second.wsUrl));
  const { user } = await back.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token: a.token });
  expect(user).toEqual(a.user);
  const rooms = (await back.call('get_user_rooms')).rooms;
  expect(rooms).toHaveLength(1);
  expect(rooms[0]).toMatchObject({ id: room.id, name: 'on postgres', lastSeq: 5, memberIds: [a.user.id, b.user.id] });
  const page = await back.call('get_messages', { roomId: room.id });
  expect(page.messages.map((m: { seq: number; text: string }) => [m.seq, m.text])).toEqual([1, 2, 3, 4, 5].map((i) => [i, `hello ${i}`]));
  // Idempotency survives the restart; seq continues without a gap.
  expect(await sendText(back, room.id, 'late repeat', 'm-5')).toMatchObject({ duplicate: true, message: { seq: 5 } });
  expect((await sendText(back, room.id, 'after the restart', 'm-6')).message.seq).toBe(6);
  // The server's own failures still answer INTERNAL and write nothing.
  second.faults.failNextWrites(1);
  expect(await back.fail('create_message', { roomId: room.id, clientId: 'm-7', text: 'rolled back' })).toBe('INTERNAL');
  expect((await sendText(back, room.id, 'retried', 'm-7')).message.seq).toBe(7);
}, 60_000);

test('two servers on one PostgreSQL database: a message sent through one is stored once and read through the other', async () => {
  const db = await databases.create();
  const redis = await startRedis();
  const [one, two] = await Promise.all([start(db, { redis: redis.url }), start(db, { redis: redis.url })]); // migrating the same new database at once
  onTestFinished(async () => {
    // Its servers first: they hold connections to this Redis.
    for (const server of [one, two]) servers.delete(server);
    await Promise.all([one.close(), two.close()]);
    await redis.stop();
  });
  const a = track(await signUp(one, 'Ann'));
  const b = track(await signUp(two, 'Ben'));
  // Each server sees the other's users and sessions: the same token signs in on either.
  const aOnTwo = track(await TestClient.open(two.wsUrl));
  await aOnTwo.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token: a.token });
  const room = await createRoom(a.client, [b.user.id]);

  // The same clientId sent through both servers at once: one row, both told the same message.
  const [x, y] = await Promise.all([sendText(a.client, room.id, 'once', 'same'), sendText(aOnTwo, room.id, 'once', 'same')]);
  expect(x.message.id).toBe(y.message.id);
  expect([x.duplicate, y.duplicate].sort()).toEqual([false, true]);
  for (let i = 1; i <= 4; i++) await sendText(i % 2 ? a.client : aOnTwo, room.id, `turn ${i}`, `turn-${i}`);

  const page = await b.client.call('get_messages', { roomId: room.id });
  expect(page.messages.map((m: { seq: number }) => m.seq)).toEqual([1, 2, 3, 4, 5]);
  expect(page.messages.filter((m: { clientId: string }) => m.clientId === 'same')).toHaveLength(1);
  // Stored once in the database itself, whichever server wrote it.
  const direct = new pg.Client({ connectionString: db });
  await direct.connect();
  try {
    const { rows } = await direct.query<{ n: string }>(`SELECT count(*) AS n FROM messages WHERE room_id = $1 AND client_id = 'same'`, [room.id]);
    expect(Number(rows[0]!.n)).toBe(1);
  } finally {
    await direct.end();
  }
}, 60_000);

test('close() in the middle of pipelined writes: every write answered is stored, seqs stay gapless', async () => {
  const db = await databases.create();
  const first = await start(db);
  const a = track(await signUp(first, 'Ann'));
  const b = track(await signUp(first, 'Ben'));
  const room = await createRoom(a.client, [b.user.id]);
  const ids = Array.from({ length: 20 }, (_, i) => a.client.send('create_message', { roomId: room.id, clientId: `c-${i}`, text: `m ${i}` }));
  await a.client.waitReply(ids[0]!); // some handled, others in flight or queued
  await first.close();
  servers.delete(first);
  const answered = a.client.frames.filter((f) => f.type === 'reply' && ids.includes(f.requestId)) as { ok: boolean; data?: any }[];
  // Whatever was answered was answered ok (no write met a closed store), and is stored.
  expect(answered.every((r) => r.ok)).toBe(true);
  const second = await start(db);
  const back = track(await TestClient.open(second.wsUrl));
  await back.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token: a.token });
  const stored = (await back.call('get_messages', { roomId: room.id, limit: 100 })).messages as { seq: number; clientId: string }[];
  expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
  expect(stored.length).toBeGreaterThanOrEqual(answered.length);
  for (const reply of answered) expect(stored.map((m) => m.clientId)).toContain(reply.data.message.clientId);
}, 60_000);
