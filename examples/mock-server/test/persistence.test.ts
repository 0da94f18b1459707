import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, expect, test } from 'vitest';
import { CloseCode } from '@chat/sdk/protocol';
import { startServer, TEST_SERVER_OPTIONS } from '../src/index.js';
import { TestClient, createRoom, sendText, signUp } from './helpers.js';
import { png } from './images.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test('a restart on the same SQLite file and port keeps users, sessions, rooms, messages and uploads', async () => {
  const db = join(dir, 'nested', 'chat.sqlite'); // the folder is created
  const first = await startServer({ db, ...TEST_SERVER_OPTIONS });
  const a = await signUp(first, 'Ann');
  const b = await signUp(first, 'Ben');
  const room = await createRoom(a.client, [b.user.id], 'kept');
  for (let i = 1; i <= 3; i++) await sendText(a.client, room.id, `before ${i}`, `before-${i}`);
  const res = await fetch(`${first.httpUrl}/uploads`, { method: 'POST', headers: { Authorization: `Bearer ${a.token}`, 'Content-Type': 'image/png' }, body: new Uint8Array(png(5, 6)) });
  const uploaded = (await res.json()) as { url: string };

  const closing = a.client.closed;
  await first.close();
  await first.close(); // safe twice
  expect((await closing).code).toBe(CloseCode.GOING_AWAY);
  expect((await b.client.closed).code).toBe(CloseCode.GOING_AWAY);

  const second = await startServer({ db, port: first.port, ...TEST_SERVER_OPTIONS });
  expect(second.port).toBe(first.port);
  try {
    // Every tab's session survives: the same token signs in again.
    const back = await TestClient.open(second.wsUrl);
    const { user } = await back.call('create_connection', { protocolVersion: 1, token: a.token });
    expect(user).toEqual(a.user);
    const rooms = (await back.call('get_user_rooms')).rooms;
    expect(rooms).toHaveLength(1);
    expect(rooms[0]).toMatchObject({ id: room.id, name: 'kept', lastSeq: 3, memberIds: [a.user.id, b.user.id] });
    // Idempotency survives the restart; seq continues without a gap.
    expect((await back.call('create_message', { roomId: room.id, clientId: 'before-2', text: 'again' })).duplicate).toBe(true);
    expect((await sendText(back, room.id, 'after')).message.seq).toBe(4);
    const { messages } = await back.call('get_messages', { roomId: room.id });
    expect(messages.map((m: { text: string }) => m.text)).toEqual(['before 1', 'before 2', 'before 3', 'after']);
    const img = await fetch(new URL(uploaded.url, second.httpUrl));
    expect(img.status).toBe(200);
    expect(Buffer.from(await img.arrayBuffer()).equals(png(5, 6))).toBe(true);
    back.close();
  } finally {
    await second.close();
  }

  // What is on disk: WAL mode, a unique index on (sender_id, client_id), upload bytes in a
  // file next to the database and not in it (only the metadata is a row).
  const raw = new Database(db, { readonly: true });
  expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
  const index = raw.prepare("SELECT sql FROM sqlite_master WHERE name = 'messages_client_id'").get() as { sql: string };
  expect(index.sql).toMatch(/UNIQUE INDEX .*\(sender_id, client_id\)/);
  const id = uploaded.url.split('/').pop()!;
  expect(readFileSync(join(`${db}.uploads`, id)).equals(png(5, 6))).toBe(true);
  expect(readdirSync(`${db}.uploads`)).toEqual([id]);
  expect(raw.prepare('SELECT id, size FROM uploads').all()).toEqual([{ id, size: png(5, 6).length }]);
  const columns = (raw.prepare('PRAGMA table_info(uploads)').all() as { name: string }[]).map((c) => c.name);
  expect(columns).not.toContain('bytes');
  expect(raw.prepare("SELECT name FROM sqlite_master WHERE name = 'upload_parts'").get()).toBeUndefined();
  expect((raw.prepare('SELECT count(*) AS n FROM sessions').get() as { n: number }).n).toBe(2);
  raw.close();
});

test(':memory: keeps nothing across a restart', async () => {
  const first = await startServer({ db: ':memory:', ...TEST_SERVER_OPTIONS });
  const a = await signUp(first);
  await first.close();
  const second = await startServer({ db: ':memory:', port: first.port, ...TEST_SERVER_OPTIONS });
  const c = await TestClient.open(second.wsUrl);
  expect(await c.fail('create_connection', { protocolVersion: 1, token: a.token })).toBe('UNAUTHENTICATED');
  c.close();
  await second.close();
});
