import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Message, Room } from '@chat/sdk/protocol';
import { type RunningServer, TEST_SERVER_OPTIONS, startServer } from '../src/index.js';
import { type SignedIn, TestClient, createRoom, joinSession, sendText, serverFixture, signUp, sleep } from './helpers.js';
import { png } from './images.js';

const fx = serverFixture();
let server: RunningServer;
const dir = mkdtempSync(join(tmpdir(), 'chat-changes-'));
afterAll(async () => {
  await fx.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const user = async (name?: string, on: RunningServer = server) => fx.track(await signUp(on, name));
let keys = 0;
const key = () => `ch-${++keys}`;
type Changed = { message: Message; duplicate: boolean };
const edit = (c: TestClient, data: object) => c.call<Changed>('edit_message', { clientChangeId: key(), ...data });
const del = (c: TestClient, data: object) => c.call<Changed>('delete_message', { clientChangeId: key(), ...data });
const react = (c: TestClient, data: object) => c.call<Changed>('react', { clientChangeId: key(), on: true, ...data });
const roomOf = async (c: TestClient, roomId: string): Promise<Room> =>
  (await c.call<{ rooms: Room[] }>('get_user_rooms')).rooms.find((r) => r.id === roomId)!;
const history = async (c: TestClient, roomId: string): Promise<Message[]> => (await c.call('get_messages', { roomId })).messages;
/** A version-1 connection of an existing session. */
async function v1(on: RunningServer, token: string): Promise<TestClient> {
  const c = fx.track(await TestClient.open(on.wsUrl));
  await c.call('create_connection', { protocolVersion: 1, token });
  return c;
}
/** Proves no event of a kind is pending: a message sent after it arrives, and nothing came before. */
async function settle(sender: TestClient, roomId: string, ...watchers: TestClient[]): Promise<void> {
  const { message } = await sendText(sender, roomId, 'sync');
  for (const w of watchers) await w.waitForEvent('message_created', (d) => d.message.id === message.id);
}
async function uploadPng(on: RunningServer, token: string): Promise<{ url: string }> {
  const res = await fetch(`${on.httpUrl}/uploads`, {
    method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'image/png' }, body: new Uint8Array(png(5, 6, 64)),
  });
  expect(res.status).toBe(201);
  return (await res.json()) as { url: string };
}

async function pair(): Promise<{ a: SignedIn; b: SignedIn; room: Room }> {
  const a = await user('Ann');
  const b = await user('Ben');
  return { a, b, room: await createRoom(a.client, [b.user.id]) };
}

describe.each([['sqlite' as const], ['memory' as const]])('message changes on %s storage', (storage) => {
  beforeAll(async () => {
    // Room for the 50 reactions of one test; the limits themselves have their own test below.
    server = await fx.start({ storage, rateLimit: { perSecond: 10_000, burst: 10_000 } });
  });

  describe('edit_message', () => {
    test('the sender edits: the reply and message_updated (to every 1.1 connection, the sender\'s own included) carry the new text, editedAt and rev; history and lastRev follow; version 1 gets no event', async () => {
      const { a, b, room } = await pair();
      expect(room.lastRev).toBe(0);
      const { message } = await sendText(a.client, room.id, 'helo', 'c-edit-1');
      const aTab = fx.track(await joinSession(server, a.token));
      const bV1 = await v1(server, b.token);
      const reply = await edit(a.client, { roomId: room.id, messageId: message.id, text: 'hello' });
      expect(reply).toEqual({ message: { ...message, text: 'hello', editedAt: expect.any(Number), rev: 1 }, duplicate: false });
      for (const c of [a.client, aTab, b.client]) expect((await c.waitForEvent('message_updated')).data).toEqual({ message: reply.message });
      expect((await history(b.client, room.id)).map((m) => m.text)).toEqual(['hello']);
      expect(await roomOf(b.client, room.id)).toMatchObject({ lastRev: 1, lastMessage: { text: 'hello', rev: 1 } });
      await settle(a.client, room.id, bV1);
      expect(bV1.eventsNamed('message_updated')).toEqual([]);
      // Actions of 1.1 work on a version-1 connection; it sees the change when it reads history.
      const aV1 = await v1(server, a.token);
      expect((await edit(aV1, { roomId: room.id, clientId: 'c-edit-1', text: 'hello!' })).message).toMatchObject({ text: 'hello!', rev: 2 });
      expect((await history(bV1, room.id))[0]).toMatchObject({ text: 'hello!', rev: 2 });
    });

    test('who may edit: the sender only (FORBIDDEN), members only (FORBIDDEN), NOT_FOUND for an unknown room or a message of another room; nothing changes', async () => {
      const { a, b, room } = await pair();
      const carol = await user('Carol');
      const other = await createRoom(a.client, [carol.user.id]);
      const { message } = await sendText(a.client, room.id, 'mine', 'c-mine');
      const { message: elsewhere } = await sendText(a.client, other.id, 'elsewhere');
      expect(await b.client.fail('edit_message', { roomId: room.id, messageId: message.id, clientChangeId: key(), text: 'hacked' })).toBe('FORBIDDEN');
      expect(await b.client.fail('edit_message', { roomId: room.id, clientId: 'c-mine', senderId: a.user.id, clientChangeId: key(), text: 'hacked' })).toBe('FORBIDDEN');
      expect(await carol.client.fail('edit_message', { roomId: room.id, messageId: message.id, clientChangeId: key(), text: 'x' })).toBe('FORBIDDEN');
      expect(await a.client.fail('edit_message', { roomId: 'r_none', messageId: message.id, clientChangeId: key(), text: 'x' })).toBe('NOT_FOUND');
      expect(await a.client.fail('edit_message', { roomId: room.id, messageId: elsewhere.id, clientChangeId: key(), text: 'x' })).toBe('NOT_FOUND');
      expect(await a.client.fail('edit_message', { roomId: room.id, messageId: 'm_none', clientChangeId: key(), text: 'x' })).toBe('NOT_FOUND');
      expect(await a.client.fail('edit_message', { roomId: room.id, clientId: 'c-none', clientChangeId: key(), text: 'x' })).toBe('NOT_FOUND');
      expect((await history(a.client, room.id))[0]).toEqual(message);
      expect((await roomOf(a.client, room.id)).lastRev).toBe(0);
    });

    test('what an edit may say: exactly one of messageId and clientId; blank only with an image; at most 4,000 code points; lone surrogates become U+FFFD', async () => {
      const { a, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'text', 'c-text');
      const base = { roomId: room.id, clientChangeId: key() };
      expect(await a.client.fail('edit_message', { ...base, text: 'x' })).toBe('BAD_REQUEST');
      expect(await a.client.fail('edit_message', { ...base, messageId: message.id, clientId: 'c-text', text: 'x' })).toBe('BAD_REQUEST');
      expect(await a.client.fail('edit_message', { ...base, messageId: message.id, text: ' \u200b\n' })).toBe('BAD_REQUEST');
      expect(await a.client.fail('edit_message', { ...base, messageId: message.id, text: '😀'.repeat(4001) })).toBe('TOO_LARGE');
      expect(await a.client.fail('edit_message', { ...base, messageId: message.id, clientChangeId: 'bad key!', text: 'x' })).toBe('BAD_REQUEST');
      expect((await edit(a.client, { roomId: room.id, messageId: message.id, text: '😀'.repeat(4000) })).message.rev).toBe(1);
      expect((await edit(a.client, { roomId: room.id, messageId: message.id, text: 'a\ud800b' })).message.text).toBe('a\ufffdb');
      const image = await uploadPng(server, a.token);
      const { message: photo } = await a.client.call('create_message', { roomId: room.id, clientId: 'c-photo', text: 'caption', image });
      const blanked = await edit(a.client, { roomId: room.id, messageId: photo.id, text: '' });
      expect(blanked.message).toMatchObject({ text: '', image: { url: image.url }, rev: 3 });
    });
  });

  describe('delete_message', () => {
    test('the sender deletes: a tombstone (text "", image null, reactions gone, id/seq/createdAt kept) everywhere; again is ok with no rev and no event; edit or react after: CONFLICT; others: FORBIDDEN', async () => {
      const { a, b, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'secret');
      await sendText(a.client, room.id, 'after it');
      await react(b.client, { roomId: room.id, messageId: message.id, emoji: '👍' });
      expect(await b.client.fail('delete_message', { roomId: room.id, messageId: message.id, clientChangeId: key() })).toBe('FORBIDDEN');
      const gone = await del(a.client, { roomId: room.id, messageId: message.id });
      const tombstone = { id: message.id, roomId: room.id, senderId: a.user.id, clientId: message.clientId, seq: 1, text: '', image: null, createdAt: message.createdAt, deletedAt: expect.any(Number), rev: 2 };
      expect(gone).toEqual({ message: tombstone, duplicate: false });
      expect((await b.client.waitForEvent('message_updated', (d) => d.message.rev === 2)).data.message).toEqual(tombstone);
      expect((await history(b.client, room.id)).map((m) => [m.seq, m.text])).toEqual([[1, ''], [2, 'after it']]);
      // A second device deleting it too: success, nothing new.
      expect(await del(a.client, { roomId: room.id, messageId: message.id })).toEqual({ message: gone.message, duplicate: false });
      expect(await a.client.fail('edit_message', { roomId: room.id, messageId: message.id, clientChangeId: key(), text: 'back' })).toBe('CONFLICT');
      expect(await b.client.fail('react', { roomId: room.id, messageId: message.id, clientChangeId: key(), emoji: '👍', on: true })).toBe('CONFLICT');
      expect(await b.client.fail('react', { roomId: room.id, messageId: message.id, clientChangeId: key(), emoji: '👍', on: false })).toBe('CONFLICT');
      await settle(a.client, room.id, b.client);
      expect(b.client.eventsNamed('message_updated').map((e) => e.data.message.rev)).toEqual([1, 2]);
      expect((await roomOf(b.client, room.id)).lastRev).toBe(2);
    });
  });

  describe('react', () => {
    test('any member adds and takes back reactions, oldest first per emoji; asking for what is already so is ok with no rev and no event', async () => {
      const { a, b, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'vote');
      const ref = { roomId: room.id, messageId: message.id };
      expect((await react(b.client, { ...ref, emoji: '👍' })).message).toMatchObject({ rev: 1, reactions: { '👍': [b.user.id] } });
      expect((await react(a.client, { ...ref, emoji: '👍' })).message.reactions).toEqual({ '👍': [b.user.id, a.user.id] });
      expect((await react(a.client, { ...ref, emoji: '🇫🇷' })).message.reactions).toEqual({ '👍': [b.user.id, a.user.id], '🇫🇷': [a.user.id] });
      const noop = await react(b.client, { ...ref, emoji: '👍' });
      expect(noop).toMatchObject({ duplicate: false, message: { rev: 3 } });
      expect(await react(b.client, { ...ref, emoji: '🎉', on: false })).toMatchObject({ message: { rev: 3 } });
      expect((await react(b.client, { ...ref, emoji: '👍', on: false })).message).toMatchObject({ rev: 4, reactions: { '👍': [a.user.id] } });
      const last = await react(a.client, { ...ref, emoji: '🇫🇷', on: false });
      expect(last.message.reactions).toEqual({ '👍': [a.user.id] });
      await settle(a.client, room.id, b.client);
      expect(b.client.eventsNamed('message_updated').map((e) => e.data.message.rev)).toEqual([1, 2, 3, 4, 5]);
      // By clientId and senderId: a reaction to someone else's message still in their outbox.
      const { message: queued } = await sendText(a.client, room.id, 'named by clientId', 'c-queued');
      expect((await react(b.client, { roomId: room.id, clientId: 'c-queued', senderId: a.user.id, emoji: '❤️' })).message).toMatchObject({ id: queued.id, reactions: { '❤️': [b.user.id] } });
    });

    test('who and what: members only (FORBIDDEN), one emoji sequence (BAD_REQUEST), at most 50 distinct emoji on a message (TOO_LARGE)', async () => {
      const { a, b, room } = await pair();
      const carol = await user('Carol');
      const { message } = await sendText(a.client, room.id, 'popular');
      const ref = { roomId: room.id, messageId: message.id, on: true };
      expect(await carol.client.fail('react', { ...ref, clientChangeId: key(), emoji: '👍' })).toBe('FORBIDDEN');
      for (const emoji of ['a', '1', '👍 👍', '<b>', '', '👍'.repeat(17)]) {
        expect(await b.client.fail('react', { ...ref, clientChangeId: key(), emoji })).toBe('BAD_REQUEST');
      }
      const fifty = Array.from({ length: 50 }, (_, i) => String.fromCodePoint(0x1f600 + i));
      for (const emoji of fifty) await react(a.client, { ...ref, emoji });
      expect(await b.client.fail('react', { ...ref, clientChangeId: key(), emoji: '🚀' })).toBe('TOO_LARGE');
      expect((await react(b.client, { ...ref, emoji: fifty[0] })).message.reactions![fifty[0]!]).toEqual([a.user.id, b.user.id]);
      expect((await roomOf(a.client, room.id)).lastRev).toBe(51);
    });

    test('two members reacting at the same moment: both reactions kept, each with its own rev', async () => {
      const { a, b, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'race');
      const ref = { roomId: room.id, messageId: message.id, on: true };
      const [ra, rb] = await Promise.all([
        a.client.call<Changed>('react', { ...ref, clientChangeId: key(), emoji: '🔥' }),
        b.client.call<Changed>('react', { ...ref, clientChangeId: key(), emoji: '🔥' }),
      ]);
      expect(new Set([ra.message.rev, rb.message.rev])).toEqual(new Set([1, 2]));
      const now = (await history(a.client, room.id))[0]!;
      expect(now.rev).toBe(2);
      expect([...now.reactions!['🔥']!].sort()).toEqual([a.user.id, b.user.id].sort());
    });
  });

  describe('idempotency and limits', () => {
    test('a repeated clientChangeId answers duplicate: true with the message as it is now, changes nothing and sends no event', async () => {
      const { a, b, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'one');
      const ref = { roomId: room.id, messageId: message.id };
      await a.client.call('edit_message', { ...ref, clientChangeId: 'k-edit', text: 'two' });
      await a.client.call('edit_message', { ...ref, clientChangeId: 'k-edit-2', text: 'three' });
      // Same key, whatever it asks now, even another action: the change it named was applied.
      expect(await a.client.call('edit_message', { ...ref, clientChangeId: 'k-edit', text: 'two' })).toMatchObject({ duplicate: true, message: { text: 'three', rev: 2 } });
      expect(await a.client.call('delete_message', { ...ref, clientChangeId: 'k-edit' })).toMatchObject({ duplicate: true, message: { text: 'three' } });
      // Keys are per caller: Ben's k-edit is his own.
      expect(await b.client.call('react', { ...ref, clientChangeId: 'k-edit', emoji: '👀', on: true })).toMatchObject({ duplicate: false, message: { rev: 3 } });
      await settle(a.client, room.id, b.client);
      expect(b.client.eventsNamed('message_updated').map((e) => e.data.message.rev)).toEqual([1, 2, 3]);
    });

    test('a change whose write fails (injected) replies INTERNAL, leaves no rev, no key and no event; the retry with the same key applies it once', async () => {
      const { a, b, room } = await pair();
      const { message } = await sendText(a.client, room.id, 'draft');
      const ref = { roomId: room.id, messageId: message.id };
      server.faults.failNextWrites(2);
      expect((await a.client.request('edit_message', { ...ref, clientChangeId: 'f-edit', text: 'final' })).error).toMatchObject({ code: 'INTERNAL', retryable: true });
      expect((await b.client.request('react', { ...ref, clientChangeId: 'f-react', emoji: '👍', on: true })).error?.code).toBe('INTERNAL');
      expect((await history(b.client, room.id))[0]).toEqual(message);
      expect((await roomOf(b.client, room.id)).lastRev).toBe(0);
      expect(await a.client.call('edit_message', { ...ref, clientChangeId: 'f-edit', text: 'final' })).toMatchObject({ duplicate: false, message: { text: 'final', rev: 1 } });
      expect(await b.client.call('react', { ...ref, clientChangeId: 'f-react', emoji: '👍', on: true })).toMatchObject({ duplicate: false, message: { rev: 2 } });
      await settle(a.client, room.id, b.client);
      expect(b.client.eventsNamed('message_updated').map((e) => e.data.message.rev)).toEqual([1, 2]);
    });

    test('each change costs a message of the user\'s message bucket; repeats cost nothing', async () => {
      const strict = await fx.start({ storage, limits: { userMessages: { perSecond: 0.01, burst: 3 } } });
      const a = await user('Ann', strict);
      const b = await user('Ben', strict);
      const room = await createRoom(a.client, [b.user.id]);
      const { message } = await sendText(a.client, room.id, 'm');
      const ref = { roomId: room.id, messageId: message.id };
      await a.client.call('edit_message', { ...ref, clientChangeId: 'e1', text: 'm1' });
      await a.client.call('react', { ...ref, clientChangeId: 'r1', emoji: '👍', on: true });
      expect(await a.client.call('edit_message', { ...ref, clientChangeId: 'e1', text: 'm1' })).toMatchObject({ duplicate: true });
      const reply = await a.client.request('delete_message', { ...ref, clientChangeId: 'd1' });
      expect(reply.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
      expect((await history(a.client, room.id))[0]).toMatchObject({ text: 'm1', rev: 2 });
    });
  });

  describe('replies', () => {
    test('create_message with replyTo quotes the parent as it is when read: cut to 100 code points, "" for an image alone, deleted: true once it is a tombstone', async () => {
      const { a, b, room } = await pair();
      const long = '😀'.repeat(150);
      const { message: parent } = await sendText(a.client, room.id, long);
      const { message: reply } = await b.client.call('create_message', { roomId: room.id, clientId: 'c-reply', text: 'agreed', replyTo: parent.id });
      expect(reply.replyTo).toEqual({ id: parent.id, senderId: a.user.id, text: '😀'.repeat(100) });
      expect((await a.client.waitForEvent('message_created', (d) => d.message.id === reply.id)).data.message.replyTo).toEqual(reply.replyTo);
      await edit(a.client, { roomId: room.id, messageId: parent.id, text: 'changed my mind' });
      expect((await history(b.client, room.id))[1]!.replyTo).toEqual({ id: parent.id, senderId: a.user.id, text: 'changed my mind' });
      await del(a.client, { roomId: room.id, messageId: parent.id });
      expect((await history(b.client, room.id))[1]!.replyTo).toEqual({ id: parent.id, senderId: a.user.id, text: '', deleted: true });
      // A tombstone may be answered; an image alone quotes "".
      const { message: toTombstone } = await b.client.call('create_message', { roomId: room.id, clientId: 'c-r2', text: 'what was it?', replyTo: parent.id });
      expect(toTombstone.replyTo).toEqual({ id: parent.id, senderId: a.user.id, text: '', deleted: true });
      const image = await uploadPng(server, a.token);
      const { message: photo } = await a.client.call('create_message', { roomId: room.id, clientId: 'c-photo-q', image });
      expect((await b.client.call('create_message', { roomId: room.id, clientId: 'c-r3', text: 'nice', replyTo: photo.id })).message.replyTo).toEqual({ id: photo.id, senderId: a.user.id, text: '' });
    });

    test('replyTo must name a message of the same room: another room\'s or an unknown id is NOT_FOUND and nothing is stored', async () => {
      const { a, b, room } = await pair();
      const carol = await user('Carol');
      const other = await createRoom(a.client, [carol.user.id]);
      const { message: elsewhere } = await sendText(a.client, other.id, 'private');
      expect(await b.client.fail('create_message', { roomId: room.id, clientId: 'c-x1', text: 'peek', replyTo: elsewhere.id })).toBe('NOT_FOUND');
      expect(await b.client.fail('create_message', { roomId: room.id, clientId: 'c-x2', text: 'peek', replyTo: 'm_none' })).toBe('NOT_FOUND');
      expect(await history(b.client, room.id)).toEqual([]);
    });
  });

  describe('get_changes', () => {
    test('pages through every changed message once, by rev ascending, as it is now, with exact hasMore and the room\'s lastRev', async () => {
      const { a, b, room } = await pair();
      const sent: Message[] = [];
      for (let i = 0; i < 12; i++) sent.push((await sendText(a.client, room.id, `m${i}`)).message);
      // 30 changes over 10 messages; m0 changed last of all, m11 never.
      for (let round = 0; round < 3; round++) {
        for (let i = 1; i <= 10; i++) await edit(a.client, { roomId: room.id, messageId: sent[i % 10]!.id, text: `m${i % 10} v${round}` });
      }
      expect(await b.client.call('get_changes', { roomId: room.id, afterRev: 30 })).toEqual({ messages: [], hasMore: false, lastRev: 30 });
      const seen: Message[] = [];
      let afterRev = 0;
      let pages = 0;
      for (;;) {
        const page = await b.client.call<{ messages: Message[]; hasMore: boolean; lastRev: number }>('get_changes', { roomId: room.id, afterRev, limit: 4 });
        pages++;
        expect(page.lastRev).toBe(30);
        seen.push(...page.messages);
        if (!page.hasMore) break;
        afterRev = page.messages.at(-1)!.rev!;
      }
      expect(pages).toBe(3);
      expect(seen.map((m) => m.rev)).toEqual([21, 22, 23, 24, 25, 26, 27, 28, 29, 30]);
      expect(seen.map((m) => m.text)).toEqual([...Array.from({ length: 9 }, (_, i) => `m${i + 1} v2`), 'm0 v2']);
      expect(seen).toEqual(expect.arrayContaining((await history(b.client, room.id)).filter((m) => m.rev)));
      expect((await b.client.call('get_changes', { roomId: room.id, afterRev: 27 })).messages.map((m: Message) => m.rev)).toEqual([28, 29, 30]);
    });

    test('members only: FORBIDDEN for someone else\'s room, NOT_FOUND for an unknown one, BAD_REQUEST for a bad limit', async () => {
      const { a, room } = await pair();
      const carol = await user('Carol');
      expect(await carol.client.fail('get_changes', { roomId: room.id, afterRev: 0 })).toBe('FORBIDDEN');
      expect(await carol.client.fail('get_changes', { roomId: 'r_none', afterRev: 0 })).toBe('NOT_FOUND');
      expect(await a.client.fail('get_changes', { roomId: room.id, afterRev: 0, limit: 101 })).toBe('BAD_REQUEST');
      expect(await a.client.fail('get_changes', { roomId: room.id, afterRev: -1 })).toBe('BAD_REQUEST');
      expect(await a.client.call('get_changes', { roomId: room.id, afterRev: 0 })).toEqual({ messages: [], hasMore: false, lastRev: 0 });
    });
  });

  test('Room.lastRev comes with create_room, room_created and get_user_rooms', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    expect(room.lastRev).toBe(0);
    expect((await b.client.waitForEvent('room_created')).data.room.lastRev).toBe(0);
    const { message } = await sendText(a.client, room.id, 'x');
    await react(b.client, { roomId: room.id, messageId: message.id, emoji: '👍' });
    expect((await roomOf(a.client, room.id)).lastRev).toBe(1);
  });
});

describe('on disk', () => {
  test('on a SQLite file: the tombstone\'s text and image are gone from disk and its uploaded bytes deleted; a key resent after a restart is applied once', async () => {
    const db = join(dir, 'tombstone.sqlite');
    const first = await startServer({ ...TEST_SERVER_OPTIONS, db });
    const a = await user('Ann', first);
    const b = await user('Ben', first);
    const room = await createRoom(a.client, [b.user.id]);
    const image = await uploadPng(first, a.token);
    const { message } = await a.client.call('create_message', { roomId: room.id, clientId: 'c-img', text: 'the secret caption', image });
    const { message: kept } = await sendText(a.client, room.id, 'kept');
    await a.client.call('edit_message', { roomId: room.id, messageId: kept.id, clientChangeId: 'edit-once', text: 'kept, edited' });
    await a.client.call('delete_message', { roomId: room.id, messageId: message.id, clientChangeId: 'delete-once' });
    expect((await fetch(new URL(image.url, first.httpUrl))).status).toBe(404);
    await first.close();

    const second = await startServer({ ...TEST_SERVER_OPTIONS, db, port: first.port });
    try {
      const back = fx.track(await TestClient.open(second.wsUrl));
      await back.call('create_connection', { protocolVersion: 1.1, token: a.token });
      // The outbox resends both after the reconnect: each was applied once.
      const edited = await back.call('edit_message', { roomId: room.id, messageId: kept.id, clientChangeId: 'edit-once', text: 'kept, edited' });
      expect(edited).toMatchObject({ duplicate: true, message: { rev: 1 } });
      const deleted = await back.call('delete_message', { roomId: room.id, messageId: message.id, clientChangeId: 'delete-once' });
      expect(deleted).toMatchObject({ duplicate: true, message: { text: '', image: null, rev: 2 } });
      expect((await roomOf(back, room.id)).lastRev).toBe(2);
      await sleep(20);
      expect(back.eventsNamed('message_updated')).toEqual([]);
    } finally {
      await second.close();
    }
    const raw = new Database(db, { readonly: true });
    expect(raw.prepare('SELECT text, image, deleted_at IS NOT NULL AS deleted FROM messages WHERE id = ?').get(message.id)).toEqual({ text: '', image: null, deleted: 1 });
    const uploadId = image.url.split('/').pop()!;
    expect(raw.prepare('SELECT count(*) AS n FROM uploads WHERE id = ?').get(uploadId)).toEqual({ n: 0 });
    expect(raw.prepare('SELECT count(*) AS n FROM upload_parts WHERE upload_id = ?').get(uploadId)).toEqual({ n: 0 });
    // No copy of the text in any row (a reply's quote is never stored either).
    expect(raw.prepare("SELECT count(*) AS n FROM messages WHERE text LIKE '%secret caption%'").get()).toEqual({ n: 0 });
    raw.close();
    // Nor in the file's free space: SQLite zeroes what it frees (secure_delete).
    expect(readFileSync(db).includes('the secret caption')).toBe(false);
  });
});
