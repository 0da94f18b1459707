import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TYPING_RATE_BURST, TYPING_TTL_MS } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { TestClient, createRoom, eventually, joinSession, sendText, serverFixture, signUp, sleep } from './helpers.js';

const GRACE_MS = 300;
const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start({ presenceGraceMs: GRACE_MS });
});
afterAll(() => fx.cleanup());

const user = async (name?: string) => fx.track(await signUp(server, name));
const tab = async (token: string) => fx.track(await joinSession(server, token));
const typingOf = (c: TestClient) => c.eventsNamed('typing').map((e) => e.data);
const presenceOf = (c: TestClient, userId?: string) => c.eventsNamed('presence').map((e) => e.data).filter((p) => !userId || p.userId === userId);

/** Three people: ada and bob share a room; cat shares none with them. */
async function trio() {
  const ada = await user('ada');
  const bob = await user('bob');
  const cat = await user('cat');
  const room = await createRoom(ada.client, [bob.user.id]);
  return { ada, bob, cat, room };
}

describe('typing', () => {
  test("reaches the room's other members and the typist's other connections, not the sender, not strangers, not version 1", async () => {
    const { ada, bob, cat, room } = await trio();
    const adaPhone = await tab(ada.token);
    const bobV1 = fx.track(await TestClient.open(server.wsUrl));
    await bobV1.call('create_connection', { protocolVersion: 1, token: bob.token });
    const before = Date.now();
    const { until } = await ada.client.call('typing', { roomId: room.id });
    expect(until).toBeGreaterThanOrEqual(before + TYPING_TTL_MS);
    const seen = await bob.client.waitForEvent('typing');
    expect(seen.data).toEqual({ roomId: room.id, userId: ada.user.id, until });
    await adaPhone.waitForEvent('typing');
    await sendText(ada.client, room.id, 'flush'); // everything earlier has been fanned out by now
    await bob.client.waitForEvent('message_created');
    expect(typingOf(ada.client)).toEqual([]);
    expect(typingOf(cat.client)).toEqual([]);
    expect(typingOf(bobV1)).toEqual([]);
  });

  test('refreshes from several connections of one user reach the room once per coalescing window', async () => {
    const { ada, bob, room } = await trio();
    const adaPhone = await tab(ada.token);
    const first = await ada.client.call('typing', { roomId: room.id });
    const second = await adaPhone.call('typing', { roomId: room.id });
    const third = await ada.client.call('typing', { roomId: room.id });
    expect(second.until).toBe(first.until);
    expect(third.until).toBe(first.until);
    await sendText(ada.client, room.id, 'flush');
    await bob.client.waitForEvent('message_created');
    expect(typingOf(bob.client)).toHaveLength(1);
  });

  test('a stop ends it at once with until 0; a stop when not typing sends nothing', async () => {
    const { ada, bob, room } = await trio();
    expect(await ada.client.call('typing', { roomId: room.id, stop: true })).toEqual({ until: 0 });
    await ada.client.call('typing', { roomId: room.id });
    await ada.client.call('typing', { roomId: room.id, stop: true });
    await bob.client.waitForEvent('typing', (d) => d.until === 0);
    expect(typingOf(bob.client).map((d) => d.until === 0)).toEqual([false, true]);
  });

  test("the typist's message ends the typing (message_created says it), so the next keystroke is passed on at once", async () => {
    const { ada, bob, room } = await trio();
    await ada.client.call('typing', { roomId: room.id });
    await sendText(ada.client, room.id, 'hello');
    await ada.client.call('typing', { roomId: room.id });
    await eventually(() => typingOf(bob.client).length === 2);
    expect(bob.client.events.map((e) => e.event)).toEqual(['room_created', 'typing', 'message_created', 'typing']);
  });

  test('members only: NOT_FOUND for an unknown room, FORBIDDEN for a stranger, who hears nothing', async () => {
    const { ada, cat, room } = await trio();
    expect(await cat.client.fail('typing', { roomId: room.id })).toBe('FORBIDDEN');
    expect(await cat.client.fail('typing', { roomId: 'r_nope' })).toBe('NOT_FOUND');
    expect(await cat.client.fail('typing', {})).toBe('BAD_REQUEST');
    expect(await cat.client.fail('typing', { roomId: room.id, stop: 'yes' })).toBe('BAD_REQUEST');
    await ada.client.call('typing', { roomId: room.id });
    await sleep(50);
    expect(typingOf(cat.client)).toEqual([]);
  });

  test('a flood is rate-limited per user across connections, and nothing of it is stored', async () => {
    const { ada, bob, room } = await trio();
    const adaPhone = await tab(ada.token);
    const replies = [];
    for (let i = 0; i < TYPING_RATE_BURST + 5; i++) {
      replies.push(await (i % 2 ? adaPhone : ada.client).request('typing', { roomId: room.id, ...(i % 3 === 2 ? { stop: true } : {}) }));
    }
    const limited = replies.filter((r) => !r.ok);
    expect(limited.length).toBeGreaterThanOrEqual(4);
    expect(limited[0]!.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: expect.any(Number) });
    const page = await bob.client.call('get_messages', { roomId: room.id });
    expect(page.messages).toEqual([]);
    expect((await bob.client.call('get_user_rooms', {})).rooms[0].lastSeq).toBe(0);
    // Other users are not slowed down by ada's flood.
    expect((await bob.client.request('typing', { roomId: room.id })).ok).toBe(true);
  });
});

describe('presence', () => {
  test('a co-member coming online is announced to those who share a room, and nobody else', async () => {
    const { ada, bob, cat, room } = await trio();
    const dan = await user('dan');
    await createRoom(bob.client, [dan.user.id]);
    ada.client.close();
    await bob.client.waitForEvent('presence', (p) => p.userId === ada.user.id && !p.online);
    const again = await tab(ada.token);
    const online = await bob.client.waitForEvent('presence', (p) => p.userId === ada.user.id && p.online);
    expect(online.data).toEqual({ userId: ada.user.id, online: true, lastSeenAt: expect.any(Number) });
    await sendText(again, room.id, 'flush');
    await bob.client.waitForEvent('message_created');
    await sleep(20);
    expect(presenceOf(cat.client, ada.user.id)).toEqual([]);
    expect(presenceOf(dan.client, ada.user.id)).toEqual([]);
  });

  test('a reload (closed and back within the grace) and closing one of several tabs announce nothing', async () => {
    const { ada, bob } = await trio();
    const tab2 = await tab(ada.token);
    const tab3 = await tab(ada.token);
    tab2.close();
    tab3.close();
    ada.client.close();
    await sleep(GRACE_MS / 3);
    const reloaded = await tab(ada.token);
    await sleep(GRACE_MS * 2);
    expect(presenceOf(bob.client, ada.user.id)).toEqual([]);
    expect((await bob.client.call('get_presence', { userIds: [ada.user.id] })).presence).toEqual([
      { userId: ada.user.id, online: true, lastSeenAt: expect.any(Number) },
    ]);
    reloaded.close();
  });

  test('the last connection closing is announced once the grace is over, with the time it closed', async () => {
    const { ada, bob } = await trio();
    const closedAt = Date.now();
    ada.client.close();
    const offline = await bob.client.waitForEvent('presence', (p) => p.userId === ada.user.id);
    expect(offline.data).toEqual({ userId: ada.user.id, online: false, lastSeenAt: expect.any(Number) });
    expect(offline.data.lastSeenAt).toBeGreaterThanOrEqual(closedAt - 5);
    expect(offline.data.lastSeenAt).toBeLessThan(closedAt + GRACE_MS);
    expect((await bob.client.call('get_presence', { userIds: [ada.user.id] })).presence).toEqual([offline.data]);
  });

  test('get_presence answers for the caller and co-members and leaves strangers and unknown ids out', async () => {
    const { ada, bob, cat } = await trio();
    const { presence } = await ada.client.call('get_presence', { userIds: [bob.user.id, cat.user.id, 'u_nobody', ada.user.id, bob.user.id] });
    expect(presence).toEqual([
      { userId: bob.user.id, online: true, lastSeenAt: expect.any(Number) },
      { userId: ada.user.id, online: true, lastSeenAt: expect.any(Number) },
    ]);
    expect((await cat.client.call('get_presence', { userIds: [ada.user.id] })).presence).toEqual([]);
    expect(await cat.client.fail('get_presence', { userIds: [] })).toBe('BAD_REQUEST');
    expect(await cat.client.fail('get_presence', { userIds: Array.from({ length: 101 }, (_, i) => `u_${i}`) })).toBe('BAD_REQUEST');
    const anonymous = fx.track(await TestClient.open(server.wsUrl));
    expect(await anonymous.fail('get_presence', { userIds: [ada.user.id] })).toBe('UNAUTHENTICATED');
    expect(await anonymous.fail('typing', { roomId: 'r_x' })).toBe('UNAUTHENTICATED');
  });

  test('someone who never signed in has lastSeenAt null', async () => {
    const ada = await user('ada');
    const ghost = fx.track(await TestClient.open(server.wsUrl));
    const { user: g } = await ghost.call('create_user', { email: `ghost-${Date.now()}@example.com` });
    await createRoom(ada.client, [g.id]);
    expect((await ada.client.call('get_presence', { userIds: [g.id] })).presence).toEqual([{ userId: g.id, online: false, lastSeenAt: null }]);
  });
});

describe('presence across a restart', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-presence-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('last seen survives it: those online at shutdown were last seen then, those gone earlier keep their time', async () => {
    const db = join(dir, 'chat.sqlite');
    const first = await startOwn({ db, presenceGraceMs: GRACE_MS });
    const ada = await signUp(first, 'ada');
    const bob = await signUp(first, 'bob');
    const cat = await signUp(first, 'cat');
    await createRoom(ada.client, [bob.user.id, cat.user.id]);
    cat.client.close();
    const catGone = await ada.client.waitForEvent('presence', (p) => p.userId === cat.user.id && !p.online);
    const shutdownAt = Date.now();
    await first.close();
    ada.client.close();
    bob.client.close();

    const second = await startOwn({ db, port: first.port, presenceGraceMs: GRACE_MS });
    try {
      const bobAgain = await joinSession(second, bob.token);
      const { presence } = await bobAgain.call('get_presence', { userIds: [ada.user.id, cat.user.id] });
      expect(presence).toEqual([
        { userId: ada.user.id, online: false, lastSeenAt: expect.any(Number) },
        { userId: cat.user.id, online: false, lastSeenAt: catGone.data.lastSeenAt },
      ]);
      expect(presence[0].lastSeenAt).toBeGreaterThanOrEqual(shutdownAt - 5);
      const adaAgain = await joinSession(second, ada.token);
      await bobAgain.waitForEvent('presence', (p) => p.userId === ada.user.id && p.online);
      adaAgain.close();
      bobAgain.close();
    } finally {
      await second.close();
    }
  });

  async function startOwn(options: Parameters<typeof fx.start>[0]) {
    const { TEST_SERVER_OPTIONS, startServer } = await import('../src/index.js');
    return startServer({ ...TEST_SERVER_OPTIONS, ...options });
  }
});
