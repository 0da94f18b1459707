import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Message } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { createRoom, joinSession, sendText, serverFixture, signUp } from './helpers.js';

const fx = serverFixture();
let server: RunningServer;
afterAll(() => fx.cleanup());
const user = async (name?: string) => fx.track(await signUp(server, name));

// The same wire-level guarantees on both storage implementations.
describe.each(['sqlite', 'memory'] as const)('on %s storage', (storage) => {
  beforeAll(async () => {
    // A generous rate limit: these tests send hundreds of messages on one connection.
    server = await fx.start({ storage, rateLimit: { perSecond: 10_000, burst: 10_000 } });
  });

  describe('create_message idempotency', () => {
    test('a repeat returns the stored message, duplicate: true, no event, whatever its content', async () => {
      const a = await user();
      const b = await user();
      const room = await createRoom(a.client, [b.user.id]);
      const first = await a.client.call('create_message', { roomId: room.id, clientId: 'same', text: 'first' });
      expect(first.duplicate).toBe(false);
      const again = await a.client.call('create_message', { roomId: room.id, clientId: 'same', text: 'different text' });
      expect(again).toEqual({ message: first.message, duplicate: true });
      // A repeat naming another room (or a room that does not exist) still returns the stored one.
      const other = await createRoom(a.client, [b.user.id]);
      expect((await a.client.call('create_message', { roomId: other.id, clientId: 'same', text: 'x' })).message).toEqual(first.message);
      expect((await a.client.call('create_message', { roomId: 'r_gone', clientId: 'same', text: 'x' })).duplicate).toBe(true);
      await a.client.call('ping');
      await b.client.call('ping');
      expect(b.client.eventsNamed('message_created')).toHaveLength(1);
      expect(a.client.eventsNamed('message_created')).toHaveLength(1);
      expect((await a.client.call('get_messages', { roomId: other.id })).messages).toEqual([]);
    });

    test('the same clientId from another sender is another message', async () => {
      const a = await user();
      const b = await user();
      const room = await createRoom(a.client, [b.user.id]);
      const m1 = await a.client.call('create_message', { roomId: room.id, clientId: 'shared', text: 'from a' });
      const m2 = await b.client.call('create_message', { roomId: room.id, clientId: 'shared', text: 'from b' });
      expect(m2.duplicate).toBe(false);
      expect([m1.message.seq, m2.message.seq]).toEqual([1, 2]);
    });

    test('10 concurrent sends of one clientId from several tabs store one message', async () => {
      const a = await user();
      const b = await user();
      const tabs = [a.client, await joinSession(server, a.token), await joinSession(server, a.token)].map((c) => fx.track(c));
      const room = await createRoom(a.client, [b.user.id]);
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => tabs[i % 3]!.call('create_message', { roomId: room.id, clientId: 'burst', text: `try ${i}` })),
      );
      const ids = new Set(replies.map((r) => r.message.id));
      expect(ids.size).toBe(1);
      expect(replies.filter((r) => !r.duplicate)).toHaveLength(1);
      const { messages } = await b.client.call('get_messages', { roomId: room.id });
      expect(messages).toHaveLength(1);
      await b.client.call('ping');
      expect(b.client.eventsNamed('message_created')).toHaveLength(1);
    });
  });

  describe('seq and fan-out', () => {
    test('several concurrent senders get contiguous seq; every member connection sees every message once, others none', async () => {
      const members = await Promise.all([user(), user(), user(), user()]);
      const secondTab = fx.track(await joinSession(server, members[1]!.token));
      const outsider = await user();
      const room = await createRoom(members[0]!.client, members.slice(1).map((m) => m.user.id));
      const perSender = 25;
      await Promise.all(
        members.flatMap((m, s) => Array.from({ length: perSender }, (_, i) => sendText(m.client, room.id, `s${s} #${i}`, `s${s}-${i}`))),
      );
      const total = perSender * members.length;
      const { messages } = await members[0]!.client.call<{ messages: Message[] }>('get_messages', { roomId: room.id, limit: 100 });
      expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      // Each sender's messages keep their send order.
      for (let s = 0; s < members.length; s++) {
        const mine = messages.filter((m) => m.clientId.startsWith(`s${s}-`)).map((m) => Number(m.clientId.split('-')[1]));
        expect(mine).toEqual([...mine].sort((x, y) => x - y));
      }
      for (const c of [...members.map((m) => m.client), secondTab]) {
        await c.call('ping');
        const seqs = c.eventsNamed('message_created').map((e) => e.data.message.seq as number);
        expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
      }
      await outsider.client.call('ping');
      expect(outsider.client.events).toHaveLength(0);
    });

    test('the requester gets its reply before the event its request caused', async () => {
      const a = await user();
      const b = await user();
      const room = await createRoom(a.client, [b.user.id]);
      const requestId = a.client.send('create_message', { roomId: room.id, clientId: 'order', text: 'x' });
      await a.client.waitForEvent('message_created');
      const replyAt = a.client.frames.findIndex((f) => f.type === 'reply' && f.requestId === requestId);
      const eventAt = a.client.frames.findIndex((f) => f.type === 'event' && f.event === 'message_created');
      expect(replyAt).toBeGreaterThanOrEqual(0);
      expect(replyAt).toBeLessThan(eventAt);
    });
  });

  describe('get_messages paging', () => {
    let a: Awaited<ReturnType<typeof user>>;
    let roomId: string;
    const N = 250;
    beforeAll(async () => {
      a = await user();
      const b = await user();
      roomId = (await createRoom(a.client, [b.user.id])).id;
      await Promise.all(Array.from({ length: N }, (_, i) => sendText(a.client, roomId, `m${i + 1}`, `p-${i + 1}`)));
    });

    test('newest page, then before until the start: no gap, no duplicate', async () => {
      let page = await a.client.call('get_messages', { roomId, limit: 40 });
      const seen: number[] = page.messages.map((m: Message) => m.seq);
      expect(seen[seen.length - 1]).toBe(N);
      expect(page.hasMore).toBe(true);
      while (page.hasMore) {
        page = await a.client.call('get_messages', { roomId, before: seen[0], limit: 40 });
        seen.unshift(...page.messages.map((m: Message) => m.seq));
      }
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    });

    test('after 0 until hasMore is false: no gap, no duplicate, ascending', async () => {
      const seen: number[] = [];
      let after = 0;
      for (;;) {
        const page = await a.client.call('get_messages', { roomId, after, limit: 100 });
        seen.push(...page.messages.map((m: Message) => m.seq));
        if (!page.hasMore) break;
        after = seen[seen.length - 1]!;
      }
      expect(seen).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    });

    test('boundaries: default limit 50, hasMore exact, before 1 and after lastSeq are empty', async () => {
      const newest = await a.client.call('get_messages', { roomId });
      expect(newest.messages).toHaveLength(50);
      expect(newest.messages[0].seq).toBe(N - 49);
      expect((await a.client.call('get_messages', { roomId, before: 51, limit: 50 })).hasMore).toBe(false);
      expect((await a.client.call('get_messages', { roomId, before: 52, limit: 50 })).hasMore).toBe(true);
      expect((await a.client.call('get_messages', { roomId, after: N - 10, limit: 10 })).hasMore).toBe(false);
      expect((await a.client.call('get_messages', { roomId, after: N - 11, limit: 10 })).hasMore).toBe(true);
      expect(await a.client.call('get_messages', { roomId, before: 1 })).toEqual({ messages: [], hasMore: false });
      expect(await a.client.call('get_messages', { roomId, after: N })).toEqual({ messages: [], hasMore: false });
      const beyond = await a.client.call('get_messages', { roomId, before: N + 100, limit: 5 });
      expect(beyond.messages.map((m: Message) => m.seq)).toEqual([N - 4, N - 3, N - 2, N - 1, N]);
      expect((await a.client.call('get_user_rooms')).rooms[0]).toMatchObject({ id: roomId, lastSeq: N });
    });

    test('an empty room pages to nothing', async () => {
      const b = await user();
      const room = await createRoom(b.client, [a.user.id]);
      expect(await b.client.call('get_messages', { roomId: room.id })).toEqual({ messages: [], hasMore: false });
      expect(await b.client.call('get_messages', { roomId: room.id, after: 0 })).toEqual({ messages: [], hasMore: false });
    });
  });

  describe('catch-up after a reconnect', () => {
    test('get_user_rooms then get_messages after misses nothing', async () => {
      const a = await user();
      const b = await user();
      const room = await createRoom(a.client, [b.user.id]);
      await sendText(a.client, room.id, 'one');
      await b.client.waitForEvent('message_created');
      const held = 1;
      b.client.close();
      await b.client.closed;
      for (let i = 0; i < 5; i++) await sendText(a.client, room.id, `while away ${i}`);
      const back = fx.track(await joinSession(server, b.token));
      const rooms = (await back.call('get_user_rooms')).rooms;
      expect(rooms[0].lastSeq).toBe(6);
      const { messages, hasMore } = await back.call('get_messages', { roomId: room.id, after: held });
      expect(messages.map((m: Message) => m.seq)).toEqual([2, 3, 4, 5, 6]);
      expect(hasMore).toBe(false);
    });
  });
});
