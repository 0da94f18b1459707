import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Room, User } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { TestClient, createRoom, sendText, serverFixture, signUp, uniqueEmail } from './helpers.js';

const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start();
});
afterAll(() => fx.cleanup());

const open = async () => fx.track(await TestClient.open(server.wsUrl));
const user = async (name?: string) => fx.track(await signUp(server, name));

describe('create_user', () => {
  test('trims and lower-cases the email; the name defaults to the local part', async () => {
    const c = await open();
    const { user: u } = await c.call<{ user: User }>('create_user', { email: '  Mixed.Case@Example.COM ' });
    expect(u).toEqual({ id: expect.any(String), email: 'mixed.case@example.com', name: 'mixed.case', createdAt: expect.any(Number) });
    expect(Math.abs(u.createdAt - Date.now())).toBeLessThan(5000);
  });

  test('keeps a given name, trimmed; drops unknown fields', async () => {
    const c = await open();
    const reply = await c.request('create_user', { email: uniqueEmail(), name: '  Zoë  ', role: 'admin' });
    expect(reply.data.user.name).toBe('Zoë');
    expect(reply.data.user).not.toHaveProperty('role');
  });

  test('CONFLICT for an existing email, whatever its case', async () => {
    const c = await open();
    const email = uniqueEmail();
    await c.call('create_user', { email });
    expect(await c.fail('create_user', { email: email.toUpperCase() })).toBe('CONFLICT');
  });

  test('BAD_REQUEST for an invalid, over-long or missing email and for a bad name', async () => {
    const c = await open();
    expect(await c.fail('create_user', { email: 'not-an-email' })).toBe('BAD_REQUEST');
    expect(await c.fail('create_user', {})).toBe('BAD_REQUEST');
    expect(await c.fail('create_user', { email: `${'a'.repeat(64)}@${'b'.repeat(186)}.com` })).toBe('BAD_REQUEST'); // 255
    expect(await c.fail('create_user', { email: uniqueEmail(), name: 'n'.repeat(81) })).toBe('BAD_REQUEST');
    expect(await c.fail('create_user', { email: uniqueEmail(), name: '   ' })).toBe('BAD_REQUEST');
    const ok = await c.request('create_user', { email: uniqueEmail(), name: '😀'.repeat(80) }); // 80 code points
    expect(ok.ok).toBe(true);
  });
});

describe('before authentication', () => {
  test('only create_user, create_connection and ping are allowed', async () => {
    const c = await open();
    expect((await c.call('ping')).serverTime).toEqual(expect.any(Number));
    for (const action of ['delete_connection', 'get_users', 'get_user_rooms', 'create_room', 'create_message', 'get_messages']) {
      expect(await c.fail(action, {})).toBe('UNAUTHENTICATED');
    }
  });
});

describe('ping', () => {
  test('replies with the server time, with or without data', async () => {
    const { client } = await user();
    const before = Date.now();
    const { serverTime } = await client.call('ping', {});
    expect(serverTime).toBeGreaterThanOrEqual(before - 1);
    client.sendRaw(JSON.stringify({ action: 'ping', requestId: 'no-data' }));
    const reply = await client.waitReply('no-data');
    expect(reply).toMatchObject({ ok: true, data: { serverTime: expect.any(Number) } });
  });
});

describe('envelopes', () => {
  test('unknown action and non-object data are BAD_REQUEST replies', async () => {
    const c = await open();
    c.sendRaw(JSON.stringify({ action: 'no_such_action', requestId: 'x1', data: {} }));
    c.sendRaw(JSON.stringify({ action: 'ping', requestId: 'x2', data: [1] }));
    c.sendRaw(JSON.stringify({ action: 'ping', requestId: 'x3', data: 'str' }));
    for (const id of ['x1', 'x2', 'x3']) {
      const reply = await c.waitReply(id);
      expect(reply).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST', retryable: false } });
    }
    expect(c.errorFrames).toHaveLength(0);
  });
});

describe('get_users', () => {
  let me: Awaited<ReturnType<typeof user>>;
  const prefix = `dir${Date.now().toString(36)}`;
  beforeAll(async () => {
    me = await user();
    const c = await open();
    for (let i = 0; i < 7; i++) await c.call('create_user', { email: `${prefix}-${i}@example.com`, name: `${prefix} Person ${i}` });
    await c.call('create_user', { email: `zz-${prefix}@example.com`, name: `${prefix.toUpperCase()} Named` });
    await c.call('create_user', { email: `${prefix}-mail-only@example.com`, name: 'Someone Else' });
  });

  test('prefix match on the name, case-insensitive, ordered by email, paged without gaps; others\' emails hidden', async () => {
    const seen: User[] = [];
    let cursor: string | null | undefined;
    let pages = 0;
    do {
      const page = await me.client.call<{ users: User[]; nextCursor: string | null }>('get_users', {
        query: prefix.toUpperCase(),
        limit: 3,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.users);
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen.map((u) => u.name)).toEqual([...Array.from({ length: 7 }, (_, i) => `${prefix} Person ${i}`), `${prefix.toUpperCase()} Named`]);
    expect(seen.every((u) => u.email === '')).toBe(true);
  });

  test('an email matches only whole (the user comes back, its email still hidden), never by prefix', async () => {
    const exact = await me.client.call('get_users', { query: `${prefix}-mail-only@example.com` });
    expect(exact.users.map((u: User) => [u.name, u.email])).toEqual([['Someone Else', '']]);
    expect((await me.client.call('get_users', { query: `${prefix}-mail` })).users).toEqual([]);
    expect((await me.client.call('get_users', { query: 'dir' })).users.some((u: User) => u.name === 'Someone Else')).toBe(false);
  });

  test('ids mode hides others\' emails too; a server that opts in (showEmails) shows them', async () => {
    const other = await user();
    const page = await me.client.call('get_users', { ids: [other.user.id, me.user.id] });
    expect(page.users.find((u: User) => u.id === other.user.id).email).toBe('');
    expect(page.users.find((u: User) => u.id === me.user.id).email).toBe(me.user.email);
    const open = await fx.start({ showEmails: true });
    const a = fx.track(await signUp(open));
    const b = fx.track(await signUp(open));
    expect((await a.client.call('get_users', { ids: [b.user.id] })).users[0].email).toBe(b.user.email);
  });

  test('the last page has nextCursor null; the default limit is 50', async () => {
    const page = await me.client.call('get_users', { query: prefix });
    expect(page.users).toHaveLength(8);
    expect(page.nextCursor).toBeNull();
  });

  test('includes the caller', async () => {
    const page = await me.client.call('get_users', { query: me.user.email });
    expect(page.users).toEqual([me.user]);
    const all = await me.client.call('get_users', { limit: 100 });
    expect(all.users.length).toBeGreaterThan(1);
  });

  test('ids mode returns those that exist', async () => {
    const other = await user();
    const page = await me.client.call('get_users', { ids: [me.user.id, 'u_missing', other.user.id, me.user.id] });
    expect(page.nextCursor).toBeNull();
    expect(page.users.map((u: User) => u.id).sort()).toEqual([me.user.id, other.user.id].sort());
  });

  test('BAD_REQUEST for bad limits, ids and cursors', async () => {
    expect(await me.client.fail('get_users', { limit: 0 })).toBe('BAD_REQUEST');
    expect(await me.client.fail('get_users', { limit: 101 })).toBe('BAD_REQUEST');
    expect(await me.client.fail('get_users', { ids: [] })).toBe('BAD_REQUEST');
    expect(await me.client.fail('get_users', { ids: Array.from({ length: 101 }, (_, i) => `u${i}`) })).toBe('BAD_REQUEST');
    expect(await me.client.fail('get_users', { cursor: 'forged' })).toBe('BAD_REQUEST');
  });
});

describe('create_room and get_user_rooms', () => {
  test('the caller is added first, duplicates dropped, blank name null; everyone gets room_created after the reply', async () => {
    const a = await user();
    const b = await user();
    const b2 = fx.track(await TestClient.open(server.wsUrl));
    await b2.call('create_connection', { protocolVersion: 1, token: b.token });
    const outsider = await user();
    const requestId = a.client.send('create_room', { name: '   ', memberIds: [b.user.id, b.user.id, a.user.id] });
    const reply = await a.client.waitReply(requestId);
    const room = reply.data.room as Room;
    expect(room).toEqual({
      id: expect.any(String), name: null, memberIds: [a.user.id, b.user.id], createdBy: a.user.id,
      createdAt: expect.any(Number), lastSeq: 0, lastMessage: null, lastRev: 0,
    });
    for (const c of [a.client, b.client, b2]) expect((await c.waitForEvent('room_created')).data.room).toEqual(room);
    const replyIndex = a.client.frames.indexOf(reply);
    const eventIndex = a.client.frames.findIndex((f) => f.type === 'event' && f.event === 'room_created');
    expect(replyIndex).toBeLessThan(eventIndex);
    await outsider.client.call('ping');
    expect(outsider.client.eventsNamed('room_created')).toHaveLength(0);
  });

  test('errors: only the caller (BAD_REQUEST), unknown member (NOT_FOUND), 100 others (TOO_LARGE), long name (TOO_LARGE)', async () => {
    const a = await user();
    const b = await user();
    expect(await a.client.fail('create_room', { memberIds: [a.user.id] })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_room', { memberIds: [] })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_room', {})).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_room', { memberIds: [b.user.id, 'u_nobody'] })).toBe('NOT_FOUND');
    const hundred = Array.from({ length: 100 }, (_, i) => `u_fake${i}`);
    expect(await a.client.fail('create_room', { memberIds: hundred })).toBe('TOO_LARGE');
    expect(await a.client.fail('create_room', { memberIds: [b.user.id], name: 'n'.repeat(101) })).toBe('TOO_LARGE');
    const ok = await a.client.call('create_room', { memberIds: [b.user.id], name: ` ${'n'.repeat(100)} ` });
    expect(ok.room.name).toBe('n'.repeat(100));
  });

  test('99 other members is accepted', async () => {
    const a = await user();
    // The rate limit is per connection (bursts of 60): sign the members up over two.
    const signers = [await open(), await open()];
    const ids = await Promise.all(
      Array.from({ length: 99 }, async (_, i) => (await signers[i % 2]!.call('create_user', { email: uniqueEmail('m') })).user.id as string),
    );
    const { room } = await a.client.call('create_room', { memberIds: ids });
    expect(room.memberIds).toHaveLength(100);
  });

  test('rooms come most recent activity first', async () => {
    const a = await user();
    const b = await user();
    const r1 = await createRoom(a.client, [b.user.id], 'one');
    const r2 = await createRoom(a.client, [b.user.id], 'two');
    const r3 = await createRoom(b.client, [a.user.id], 'three');
    let rooms: Room[] = (await a.client.call('get_user_rooms', {})).rooms;
    expect(rooms.map((r) => r.id)).toEqual([r3.id, r2.id, r1.id]);
    const sent = await sendText(b.client, r1.id, 'bump');
    rooms = (await a.client.call('get_user_rooms')).rooms;
    expect(rooms.map((r) => r.id)).toEqual([r1.id, r3.id, r2.id]);
    expect(rooms[0]).toMatchObject({ lastSeq: 1, lastMessage: sent.message });
    const outsider = await user();
    expect((await outsider.client.call('get_user_rooms')).rooms).toEqual([]);
  });
});

describe('create_message and get_messages errors', () => {
  test('FORBIDDEN for a non-member, NOT_FOUND for an unknown room, validation codes', async () => {
    const a = await user();
    const b = await user();
    const outsider = await user();
    const room = await createRoom(a.client, [b.user.id]);
    expect(await outsider.client.fail('create_message', { roomId: room.id, clientId: 'x', text: 'hi' })).toBe('FORBIDDEN');
    expect(await outsider.client.fail('get_messages', { roomId: room.id })).toBe('FORBIDDEN');
    expect(await a.client.fail('create_message', { roomId: 'r_nope', clientId: 'x1', text: 'hi' })).toBe('NOT_FOUND');
    expect(await a.client.fail('get_messages', { roomId: 'r_nope' })).toBe('NOT_FOUND');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'x2', text: 't'.repeat(4001) })).toBe('TOO_LARGE');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'x3', text: '   ' })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'bad id!', text: 'x' })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'c'.repeat(65), text: 'x' })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'x4', text: 'x', image: { url: 'https://elsewhere.example/cat.png' } })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'x5', image: { url: 'http://127.0.0.1:1/uploads/unknownid' } })).toBe('NOT_FOUND');
    expect(await a.client.fail('get_messages', { roomId: room.id, limit: 0 })).toBe('BAD_REQUEST');
    expect(await a.client.fail('get_messages', { roomId: room.id, limit: 101 })).toBe('BAD_REQUEST');
    expect(await a.client.fail('get_messages', { roomId: room.id, before: 5, after: 1 })).toBe('BAD_REQUEST');
    const max = await a.client.call('create_message', { roomId: room.id, clientId: 'x6', text: '😀'.repeat(4000) });
    expect([...max.message.text]).toHaveLength(4000);
    expect((await a.client.call('get_messages', { roomId: room.id })).messages).toHaveLength(1);
  });

  test('the sender is always the signed-in user; unknown fields are dropped', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    const { message } = await a.client.call('create_message', {
      roomId: room.id, clientId: 'spoof', text: 'hi', senderId: b.user.id, seq: 99, extra: { x: 1 },
    });
    expect(message.senderId).toBe(a.user.id);
    expect(message.seq).toBe(1);
    expect(message).not.toHaveProperty('extra');
    const event = await b.client.waitForEvent('message_created');
    expect(event.data.message).toEqual(message);
  });
});
