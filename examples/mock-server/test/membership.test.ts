import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Room } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { TestClient, createRoom, eventually, joinSession, sendText, serverFixture, signUp, sleep, uniqueEmail } from './helpers.js';

/** Version 1.1 membership (docs/protocol.md 10.6): leave, add, block, idempotent keys, paged room lists. */
describe.each([['memory' as const], ['sqlite' as const]])('membership on %s storage', (storage) => {
  const fx = serverFixture();
  let server: RunningServer;
  beforeAll(async () => {
    server = await fx.start({ storage, logLevel: 'silent', rateLimit: { perSecond: 10_000, burst: 10_000 } });
  });
  afterAll(() => fx.cleanup());
  const user = async (name?: string) => fx.track(await signUp(server, name));

  test('leave_room: the room and its history stay for the others; the leaver gets nothing more', async () => {
    const a = await user();
    const b = await user();
    const c = await user();
    const room = await createRoom(a.client, [b.user.id, c.user.id], 'trio');
    await sendText(a.client, room.id, 'before');
    const left = b.client.waitForEvent('member_left');
    const seenByA = a.client.waitForEvent('member_left');
    expect(await b.client.call('leave_room', { roomId: room.id, clientId: 'leave-1' })).toEqual({ roomId: room.id, duplicate: false });
    expect((await left).data).toEqual({ roomId: room.id, userId: b.user.id });
    expect((await seenByA).data).toEqual({ roomId: room.id, userId: b.user.id });

    const eventsBefore = b.client.events.length;
    await sendText(a.client, room.id, 'after');
    await c.client.waitForEvent('message_created', (d) => d.message.text === 'after');
    expect(b.client.events.length).toBe(eventsBefore);
    expect((await b.client.call('get_user_rooms', {})).rooms).toEqual([]);
    expect(await b.client.fail('get_messages', { roomId: room.id })).toBe('FORBIDDEN');
    expect(await b.client.fail('create_message', { roomId: room.id, clientId: 'x', text: 'hi' })).toBe('FORBIDDEN');

    const { rooms } = await a.client.call<{ rooms: Room[] }>('get_user_rooms', {});
    expect(rooms[0]).toMatchObject({ id: room.id, memberIds: [a.user.id, c.user.id], lastSeq: 2 });
    expect((await a.client.call('get_messages', { roomId: room.id })).messages.map((m: { text: string }) => m.text)).toEqual(['before', 'after']);
  });

  test('leave_room is applied once per clientId; leaving a room one is not in is FORBIDDEN', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    await b.client.call('leave_room', { roomId: room.id, clientId: 'k1' });
    // Re-added meanwhile: a resent leave with the same key must not take them out again.
    await a.client.call('add_members', { roomId: room.id, clientId: 'add-back', userIds: [b.user.id] });
    expect(await b.client.call('leave_room', { roomId: room.id, clientId: 'k1' })).toEqual({ roomId: room.id, duplicate: true });
    expect((await b.client.call('get_user_rooms', {})).rooms.map((r: Room) => r.id)).toEqual([room.id]);
    const outsider = await user();
    expect(await outsider.client.fail('leave_room', { roomId: room.id, clientId: 'k2' })).toBe('FORBIDDEN');
    expect(await outsider.client.fail('leave_room', { roomId: 'r_nope', clientId: 'k3' })).toBe('NOT_FOUND');
    expect(await outsider.client.fail('leave_room', { roomId: room.id })).toBe('BAD_REQUEST');
  });

  test('add_members: any member adds; newcomers get room_created, members get members_added', async () => {
    const a = await user();
    const b = await user();
    const c = await user();
    const d = await user();
    const room = await createRoom(a.client, [b.user.id]);
    const forC = c.client.waitForEvent('room_created');
    const forA = a.client.waitForEvent('members_added');
    const reply = await b.client.call('add_members', { roomId: room.id, clientId: 'add-1', userIds: [c.user.id, a.user.id, c.user.id] });
    expect(reply).toMatchObject({ addedIds: [c.user.id], duplicate: false, room: { memberIds: [a.user.id, b.user.id, c.user.id] } });
    expect((await forC).data.room.id).toBe(room.id);
    expect((await forA).data).toMatchObject({ userIds: [c.user.id], addedBy: b.user.id, room: { id: room.id } });
    // The same key again: nothing more happens, the room as it is comes back.
    const again = await b.client.call('add_members', { roomId: room.id, clientId: 'add-1', userIds: [d.user.id] });
    expect(again).toMatchObject({ addedIds: [], duplicate: true });
    expect(again.room.memberIds).not.toContain(d.user.id);
    // The key reused on an unknown room still answers about the first room, not INTERNAL.
    expect(await b.client.call('add_members', { roomId: 'r_elsewhere', clientId: 'add-1', userIds: [d.user.id] })).toMatchObject({ room: { id: room.id }, duplicate: true });
    // Not a member, unknown user, unknown room.
    expect(await d.client.fail('add_members', { roomId: room.id, clientId: 'x', userIds: [d.user.id] })).toBe('FORBIDDEN');
    expect(await a.client.fail('add_members', { roomId: room.id, clientId: 'y', userIds: ['u_nobody'] })).toBe('NOT_FOUND');
    expect(await a.client.fail('add_members', { roomId: 'r_nope', clientId: 'z', userIds: [d.user.id] })).toBe('NOT_FOUND');
    expect(await a.client.fail('add_members', { roomId: room.id, clientId: 'w', userIds: [] })).toBe('BAD_REQUEST');
  });

  test('add_members keeps a room at 100 members at most', async () => {
    const a = await user();
    const ids: string[] = [];
    for (let i = 0; i < 99; i++) ids.push((await a.client.call('create_user', { email: uniqueEmail('m') })).user.id);
    const room = await createRoom(a.client, ids);
    const extra = await user();
    expect(await a.client.fail('add_members', { roomId: room.id, clientId: 'big', userIds: [extra.user.id] })).toBe('TOO_LARGE');
  });

  test('leave with block: whoever added me cannot add me again, others still can', async () => {
    const mallory = await user('mallory');
    const victim = await user('victim');
    const friend = await user('friend');
    const spam = await createRoom(mallory.client, [victim.user.id], 'spam');
    await victim.client.call('leave_room', { roomId: spam.id, clientId: 'out', block: true });
    expect(await mallory.client.fail('create_room', { memberIds: [victim.user.id] })).toBe('FORBIDDEN');
    const other = await createRoom(mallory.client, [friend.user.id]);
    expect(await mallory.client.fail('add_members', { roomId: other.id, clientId: 'again', userIds: [victim.user.id] })).toBe('FORBIDDEN');
    // The block is about who adds: a friend may still add the victim, even to Mallory's room.
    await friend.client.call('add_members', { roomId: other.id, clientId: 'friendly', userIds: [victim.user.id] });
    expect((await victim.client.call('get_user_rooms', {})).rooms.map((r: Room) => r.id)).toEqual([other.id]);
    // A plain leave (no block) lets the adder add again.
    const friendly = await createRoom(friend.client, [victim.user.id]);
    await victim.client.call('leave_room', { roomId: friendly.id, clientId: 'plain' });
    await friend.client.call('add_members', { roomId: friendly.id, clientId: 'back', userIds: [victim.user.id] });
  });

  test('create_room with a clientId is applied once however often it is resent', async () => {
    const a = await user();
    const b = await user();
    const first = await a.client.call('create_room', { memberIds: [b.user.id], name: 'once', clientId: 'room-1' });
    expect(first.duplicate).toBe(false);
    const second = await a.client.call('create_room', { memberIds: [b.user.id], name: 'once', clientId: 'room-1' });
    expect(second).toEqual({ room: first.room, duplicate: true });
    await sleep(20);
    expect(b.client.eventsNamed('room_created')).toHaveLength(1);
    expect((await a.client.call('get_user_rooms', {})).rooms).toHaveLength(1);
    // Without a key (version 1): a new room each time, and no `duplicate` field.
    const plain = await a.client.call('create_room', { memberIds: [b.user.id] });
    expect(plain).not.toHaveProperty('duplicate');
  });

  test('get_user_rooms pages by count, most recent first, with an opaque cursor', async () => {
    const a = await user();
    const b = await user();
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await createRoom(a.client, [b.user.id], `r${i}`)).id);
    await sendText(b.client, made[2]!, 'bump');
    const expected = [made[2], made[6], made[5], made[4], made[3], made[1], made[0]];
    const seen: string[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await a.client.call('get_user_rooms', { limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.rooms.length).toBeLessThanOrEqual(3);
      seen.push(...page.rooms.map((r: Room) => r.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
    expect(await a.client.fail('get_user_rooms', { cursor: 'not-a-cursor' })).toBe('BAD_REQUEST');
    expect(await a.client.fail('get_user_rooms', { limit: 101 })).toBe('BAD_REQUEST');
    expect((await a.client.call('get_user_rooms', {})).nextCursor).toBeNull();
  });

  test('a version-1 client asking with no limit gets the first page of 100 and no 1.1 events', async () => {
    const a = await user();
    const old = fx.track(await TestClient.open(server.wsUrl));
    const { user: oldUser } = await old.call('create_user', { email: uniqueEmail('v1') });
    await old.call('create_connection', { protocolVersion: 1, email: oldUser.email });
    for (let i = 0; i < 101; i++) await createRoom(a.client, [oldUser.id]);
    const page = await old.call('get_user_rooms', {});
    expect(page.rooms).toHaveLength(100);
    expect(typeof page.nextCursor).toBe('string');
    const room = page.rooms[0] as Room;
    const other = await user();
    await a.client.call('add_members', { roomId: room.id, clientId: 'v1-add', userIds: [other.user.id] });
    await other.client.waitForEvent('room_created');
    await sleep(20);
    expect(old.eventsNamed('members_added')).toEqual([]);
  });

  test('another connection of the leaver hears member_left too', async () => {
    const a = await user();
    const b = await user();
    const tab2 = fx.track(await joinSession(server, b.token));
    const room = await createRoom(a.client, [b.user.id]);
    await tab2.waitForEvent('room_created');
    await b.client.call('leave_room', { roomId: room.id, clientId: 'two-tabs' });
    await tab2.waitForEvent('member_left', (d) => d.userId === b.user.id);
    await eventually(() => true);
  });
});

describe('the SQLite membership step on a file written before it', () => {
  test('a room made by version 1 can be left, added to and blocked from after the upgrade', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const Database = (await import('better-sqlite3')).default;
    const { SqliteStorage } = await import('../src/storage/index.js');
    const { SCHEMA_V1 } = await import('../src/storage/sqlite.js');
    const dir = mkdtempSync(join(tmpdir(), 'chat-membership-'));
    try {
      const file = join(dir, 'chat.sqlite');
      // A version-1 file: schema 1 written from the step itself, rows as version 1 wrote them.
      const db = new Database(file);
      db.exec(SCHEMA_V1);
      db.pragma('user_version = 1');
      const insertUser = db.prepare('INSERT INTO users (id, email, name, name_lower, created_at) VALUES (?, ?, ?, ?, ?)');
      const [a, b, c] = ['a', 'b', 'c'].map((n, i) => {
        insertUser.run(`u_${n}`, `${n}@x.io`, n, n, i);
        return { id: `u_${n}` };
      });
      db.prepare('INSERT INTO rooms (id, name, created_by, created_at, last_seq, activity) VALUES (?, ?, ?, ?, 0, 1)').run('r_old', 'old', a!.id, 10);
      const insertMember = db.prepare('INSERT INTO room_members (room_id, user_id, position) VALUES (?, ?, ?)');
      insertMember.run('r_old', a!.id, 0);
      insertMember.run('r_old', b!.id, 1);
      db.close();

      const after = new SqliteStorage(file);
      try {
        expect(after.getUserRoomsPage(b!.id, { limit: 10 }).rooms.map((r) => r.id)).toEqual(['r_old']);
        after.addMembers({ roomId: 'r_old', userIds: [c!.id], addedBy: b!.id, clientId: 'k1' });
        after.leaveRoom({ roomId: 'r_old', userId: b!.id, clientId: 'k2', block: true }); // added by the creator, a
        expect(after.blockedBy([b!.id], a!.id)).toEqual([b!.id]);
        expect(after.getRoom('r_old')!.memberIds).toEqual([a!.id, c!.id]);
      } finally {
        after.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
