import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Room } from '@chat/sdk/protocol';
import { type RunningServer, TEST_SERVER_OPTIONS, startServer } from '../src/index.js';
import { TestClient, createRoom, joinSession, sendText, serverFixture, signUp, sleep } from './helpers.js';

const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start();
});
afterAll(() => fx.cleanup());

const user = async (name?: string) => fx.track(await signUp(server, name));
const roomOf = async (client: TestClient, roomId: string): Promise<Room> =>
  (await client.call<{ rooms: Room[] }>('get_user_rooms')).rooms.find((r) => r.id === roomId)!;

describe('mark_read (protocol 10.4)', () => {
  test('B marks read: A gets read { roomId, userId, seq }, B\'s other tab gets it with the unread count; a version-1 connection gets nothing', async () => {
    const a = await user('Ann');
    const b = await user('Ben');
    const room = await createRoom(a.client, [b.user.id]);
    for (let i = 1; i <= 3; i++) await sendText(a.client, room.id, `m${i}`);
    const bTab = fx.track(await joinSession(server, b.token));
    const aV1 = fx.track(await TestClient.open(server.wsUrl));
    await aV1.call('create_connection', { protocolVersion: 1, token: a.token });

    expect(await b.client.call('mark_read', { roomId: room.id, seq: 2 })).toEqual({ roomId: room.id, seq: 2, unreadCount: 1 });
    const seen = await a.client.waitForEvent('read');
    expect(seen.data).toEqual({ roomId: room.id, userId: b.user.id, seq: 2 });
    expect((await bTab.waitForEvent('read')).data).toEqual({ roomId: room.id, userId: b.user.id, seq: 2, unreadCount: 1 });
    // The reader's own connection hears of it too (after the reply), as with message_created.
    expect((await b.client.waitForEvent('read')).data).toMatchObject({ seq: 2, unreadCount: 1 });
    await sendText(a.client, room.id, 'sync'); // aV1 would have had the read event before this one
    await aV1.waitForEvent('message_created');
    expect(aV1.eventsNamed('read')).toEqual([]);
  });

  test('a seq at or below the cursor is a no-op (no event), above lastSeq is clamped, 0 is allowed', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    for (let i = 1; i <= 3; i++) await sendText(a.client, room.id, `m${i}`);
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 0 })).toEqual({ roomId: room.id, seq: 0, unreadCount: 3 });
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 1000 })).toEqual({ roomId: room.id, seq: 3, unreadCount: 0 });
    await a.client.waitForEvent('read');
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 1 })).toEqual({ roomId: room.id, seq: 3, unreadCount: 0 });
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 3 })).toEqual({ roomId: room.id, seq: 3, unreadCount: 0 });
    await sendText(a.client, room.id, 'sync');
    await a.client.waitForEvent('message_created', (d) => d.message.text === 'sync');
    expect(a.client.eventsNamed('read').map((e) => e.data.seq)).toEqual([3]);
  });

  test('FORBIDDEN for a non-member (who gets no read events), NOT_FOUND for an unknown room, BAD_REQUEST for bad input', async () => {
    const a = await user();
    const b = await user();
    const carol = await user('Carol');
    const room = await createRoom(a.client, [b.user.id]);
    await sendText(a.client, room.id, 'hi');
    expect(await carol.client.fail('mark_read', { roomId: room.id, seq: 1 })).toBe('FORBIDDEN');
    expect(await carol.client.fail('mark_read', { roomId: 'no-such-room', seq: 1 })).toBe('NOT_FOUND');
    expect(await b.client.fail('mark_read', { roomId: room.id, seq: -1 })).toBe('BAD_REQUEST');
    expect(await b.client.fail('mark_read', { roomId: room.id, seq: 1.5 })).toBe('BAD_REQUEST');
    expect(await b.client.fail('mark_read', { roomId: room.id })).toBe('BAD_REQUEST');
    expect(await b.client.fail('mark_read', { seq: 1 })).toBe('BAD_REQUEST');
    const anonymous = fx.track(await TestClient.open(server.wsUrl));
    expect(await anonymous.fail('mark_read', { roomId: room.id, seq: 1 })).toBe('UNAUTHENTICATED');
    await b.client.call('mark_read', { roomId: room.id, seq: 1 });
    await a.client.waitForEvent('read');
    await sleep(20);
    expect(carol.client.eventsNamed('read')).toEqual([]);
    expect((await carol.client.call<{ rooms: Room[] }>('get_user_rooms')).rooms).toEqual([]);
  });

  test('a failed write (injected) replies INTERNAL, moves nothing and tells no one; the retry moves it; a no-op writes nothing', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    await sendText(a.client, room.id, 'one');
    server.faults.failNextWrites(1);
    expect(await b.client.request('mark_read', { roomId: room.id, seq: 1 })).toMatchObject({ ok: false, error: { code: 'INTERNAL', retryable: true } });
    expect((await roomOf(b.client, room.id)).readSeqs).toEqual({});
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 1 })).toEqual({ roomId: room.id, seq: 1, unreadCount: 0 });
    server.faults.failNextWrites(1);
    expect(await b.client.call('mark_read', { roomId: room.id, seq: 1 })).toEqual({ roomId: room.id, seq: 1, unreadCount: 0 }); // nothing to write
    expect(await a.client.fail('create_user', { email: `spent-${Date.now()}@example.com` })).toBe('INTERNAL'); // the failure was not used up
    await a.client.call('ping');
    expect(a.client.eventsNamed('read')).toHaveLength(1);
  });

  test('get_user_rooms: every member\'s cursor and the caller\'s unread count (others\' messages after the cursor)', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    expect(await roomOf(b.client, room.id)).toMatchObject({ readSeqs: {}, unreadCount: 0 });
    for (let i = 1; i <= 3; i++) await sendText(a.client, room.id, `a${i}`);
    await sendText(b.client, room.id, 'b1');
    expect(await roomOf(b.client, room.id)).toMatchObject({ readSeqs: {}, unreadCount: 3 });
    expect(await roomOf(a.client, room.id)).toMatchObject({ unreadCount: 1 });
    await b.client.call('mark_read', { roomId: room.id, seq: 2 });
    await a.client.call('mark_read', { roomId: room.id, seq: 4 });
    expect(await roomOf(b.client, room.id)).toMatchObject({ readSeqs: { [a.user.id]: 4, [b.user.id]: 2 }, unreadCount: 1 });
    expect(await roomOf(a.client, room.id)).toMatchObject({ readSeqs: { [a.user.id]: 4, [b.user.id]: 2 }, unreadCount: 0 });
    // Another device of B reads on: B's first connection learns the new count from the event.
    const bPhone = fx.track(await joinSession(server, b.token));
    await bPhone.call('mark_read', { roomId: room.id, seq: 4 });
    expect((await b.client.waitForEvent('read', (d) => d.userId === b.user.id && d.seq === 4)).data).toEqual({ roomId: room.id, userId: b.user.id, seq: 4, unreadCount: 0 });
  });
});

test('read cursors survive a restart on the same SQLite file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-read-'));
  const db = join(dir, 'chat.sqlite');
  try {
    const first = await startServer({ ...TEST_SERVER_OPTIONS, db });
    const a = await signUp(first);
    const b = await signUp(first);
    const room = await createRoom(a.client, [b.user.id]);
    for (let i = 1; i <= 5; i++) await sendText(a.client, room.id, `m${i}`);
    await b.client.call('mark_read', { roomId: room.id, seq: 3 });
    await first.close();
    const second = await startServer({ ...TEST_SERVER_OPTIONS, db, port: first.port });
    try {
      const back = await joinSession(second, b.token);
      expect(await roomOf(back, room.id)).toMatchObject({ readSeqs: { [b.user.id]: 3 }, unreadCount: 2 });
      expect(await back.call('mark_read', { roomId: room.id, seq: 1 })).toEqual({ roomId: room.id, seq: 3, unreadCount: 2 });
      back.close();
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
