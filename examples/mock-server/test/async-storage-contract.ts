// The storage contract through `AsyncStorage`, written once and run against every store:
// memory and SQLite through `asAsync`, PostgreSQL as it is (storage-postgres.test.ts).
// The expectations are those of storage.test.ts, which pins the synchronous stores; a
// store that passes both behaves the same behind the server's handlers.
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChatError, type Message, type User } from '@chat/sdk/protocol';
import type { AsyncStorage } from '../src/storage/async-storage.js';
import type { NewMessage } from '../src/storage/index.js';

export function describeAsyncStorageContract(name: string, open: () => Promise<AsyncStorage>): void {
  describe(`${name}: async storage contract`, () => {
    let s: AsyncStorage;
    let t = 1_000;
    const user = (email: string, name = email.split('@')[0]!): Promise<User> => s.createUser({ id: `u-${email}`, email, name, createdAt: ++t });
    const msg = (roomId: string, senderId: string, clientId: string, text = clientId): NewMessage => ({
      id: `m-${senderId}-${clientId}`, roomId, senderId, clientId, text, image: null, createdAt: ++t,
    });
    const room = (id: string, memberIds: string[], extra: { clientId?: string; name?: string } = {}) =>
      s.createRoom({ id, name: extra.name ?? null, memberIds, createdBy: memberIds[0]!, createdAt: ++t, ...(extra.clientId ? { clientId: extra.clientId } : {}) });
    const fail = () => {
      throw new ChatError('INTERNAL', 'injected');
    };
    const seqs = (page: { messages: Message[] }) => page.messages.map((m) => m.seq);

    beforeEach(async () => {
      s = await open();
    });
    afterEach(async () => {
      await s.close();
    });

    test('users: create, read, CONFLICT on email (nothing written), ids lookup in the order asked', async () => {
      const a = await user('a@x.io', 'Ann');
      const b = await user('b@x.io', 'Bea');
      expect(await s.getUser(a.id)).toEqual(a);
      expect(await s.getUserByEmail('a@x.io')).toEqual(a);
      await expect(s.createUser({ id: 'u-other', email: 'a@x.io', name: 'x', createdAt: 1 })).rejects.toMatchObject({ code: 'CONFLICT' });
      expect(await s.getUser('u-other')).toBeUndefined();
      expect(await s.getUsersByIds([b.id, a.id, 'nope', b.id])).toEqual([b, a]);
      expect(await s.getUsersByIds([])).toEqual([]);
      expect(await s.getUser('nope')).toBeUndefined();
      await expect(s.createUser({ id: 'u2', email: 'c@x.io', name: 'c', createdAt: 1 }, { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.getUserByEmail('c@x.io')).toBeUndefined();
    });

    test('searchUsers: prefix of the lower-cased name or the whole email, by email in byte order, after a cursor; % and _ are letters', async () => {
      await user('bob@x.io', 'Zed Bobson');
      await user('zara@x.io', 'Bobby');
      await user('carl@x.io', 'Carl');
      await user('ümit@x.io', 'Ümit');
      const emails = async (prefix: string, after: string | null, limit: number) => (await s.searchUsers(prefix, after, limit)).map((u) => u.email);
      expect(await emails('bob', null, 10)).toEqual(['zara@x.io']);
      expect(await emails('bob@x.io', null, 10)).toEqual(['bob@x.io']);
      expect(await emails('bob@x', null, 10)).toEqual([]);
      expect(await emails('zed', null, 10)).toEqual(['bob@x.io']);
      expect(await emails('ümit', null, 10)).toEqual(['ümit@x.io']);
      expect(await emails('', null, 2)).toEqual(['bob@x.io', 'carl@x.io']);
      expect(await emails('', 'carl@x.io', 10)).toEqual(['zara@x.io', 'ümit@x.io']);
      expect(await emails('%', null, 10)).toEqual([]);
      expect(await emails('_', null, 10)).toEqual([]);
    });

    test('sessions: create, find by token hash, delete; expired ones go in a sweep, live ones stay', async () => {
      const a = await user('a@x.io');
      const session = { id: 's1', userId: a.id, tokenHash: 'h1', createdAt: 1, expiresAt: 100 };
      await s.createSession(session);
      await s.createSession({ id: 's2', userId: a.id, tokenHash: 'h2', createdAt: 1, expiresAt: 200 });
      await s.createSession({ id: 's3', userId: a.id, tokenHash: 'h3', createdAt: 1, expiresAt: 300 });
      expect(await s.getSessionByTokenHash('h1')).toEqual(session);
      await s.deleteSession('s1');
      await s.deleteSession('s1'); // twice is fine
      expect(await s.getSessionByTokenHash('h1')).toBeUndefined();
      expect(await s.deleteExpiredSessions(200)).toBe(1); // at or before now
      expect(await s.getSessionByTokenHash('h2')).toBeUndefined();
      expect(await s.getSessionByTokenHash('h3')).toMatchObject({ id: 's3', userId: a.id });
      expect(await s.deleteExpiredSessions(200)).toBe(0);
    });

    test('rooms: members in order, membership, most recent activity first, pages by activity', async () => {
      const [a, b, c] = [await user('a@x.io'), await user('b@x.io'), await user('c@x.io')];
      const r1 = await room('r1', [a.id, b.id], { name: 'one' });
      expect(r1).toEqual({ id: 'r1', name: 'one', memberIds: [a.id, b.id], createdBy: a.id, createdAt: t, lastSeq: 0, lastMessage: null, lastRev: 0 });
      await room('r2', [b.id, c.id, a.id]);
      await room('r3', [a.id]);
      expect(await s.isMember('r1', b.id)).toBe(true);
      expect(await s.isMember('r1', c.id)).toBe(false);
      expect(await s.isMember('nope', a.id)).toBe(false);
      expect((await s.getUserRooms(a.id)).map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
      await s.createMessage(msg('r1', b.id, 'x'));
      expect((await s.getUserRooms(a.id)).map((r) => r.id)).toEqual(['r1', 'r3', 'r2']);
      expect((await s.getUserRooms(c.id)).map((r) => r.id)).toEqual(['r2']);
      expect((await s.getRoom('r2'))!.memberIds).toEqual([b.id, c.id, a.id]);
      expect(await s.getRoom('nope')).toBeUndefined();

      const first = await s.getUserRoomsPage(a.id, { limit: 2 });
      expect(first.rooms.map((r) => r.id)).toEqual(['r1', 'r3']);
      expect(first.rooms[0]!.lastMessage).toMatchObject({ clientId: 'x', seq: 1 });
      expect(first.next).not.toBeNull();
      const rest = await s.getUserRoomsPage(a.id, { limit: 2, before: first.next! });
      expect(rest).toEqual({ rooms: [expect.objectContaining({ id: 'r2', memberIds: [b.id, c.id, a.id] })], next: null });
      expect(await s.getUserRoomsPage(a.id, { limit: 3 })).toMatchObject({ next: null });
      expect(await s.getUserRoomsPage('nobody', { limit: 3 })).toEqual({ rooms: [], next: null });
    });

    test('membership: add, leave with block, idempotency keys recorded with the change', async () => {
      const [a, b, c] = [await user('a@x.io'), await user('b@x.io'), await user('c@x.io')];
      await room('r1', [a.id, b.id], { clientId: 'k-r1' });
      await room('r2', [a.id, b.id]);
      expect(await s.findApplied(a.id, 'create_room', 'k-r1')).toBe('r1');
      expect(await s.findApplied(b.id, 'create_room', 'k-r1')).toBeUndefined();
      expect(await s.findApplied(a.id, 'add_members', 'k-r1')).toBeUndefined();

      // Read before each change, so a store that keeps members in memory must drop them when they change.
      expect(await s.getMemberIds('r1')).toEqual([a.id, b.id]);
      expect(await s.getMemberIds('nope')).toBeUndefined();
      expect((await s.addMembers({ roomId: 'r1', userIds: [c.id], addedBy: b.id, clientId: 'k-add' })).memberIds).toEqual([a.id, b.id, c.id]);
      expect(await s.getMemberIds('r1')).toEqual([a.id, b.id, c.id]);
      expect(await s.findApplied(b.id, 'add_members', 'k-add')).toBe('r1');
      expect(await s.isMember('r1', c.id)).toBe(true);
      expect((await s.getUserRooms(c.id)).map((r) => r.id)).toEqual(['r1']);
      await expect(s.addMembers({ roomId: 'nope', userIds: [c.id], addedBy: b.id, clientId: 'k-x' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await s.findApplied(b.id, 'add_members', 'k-x')).toBeUndefined();

      expect((await s.leaveRoom({ roomId: 'r1', userId: c.id, clientId: 'k-leave', block: true })).memberIds).toEqual([a.id, b.id]);
      expect(await s.isMember('r1', c.id)).toBe(false);
      expect(await s.getMemberIds('r1')).toEqual([a.id, b.id]);
      expect(await s.getUserRoomsPage(c.id, { limit: 10 })).toEqual({ rooms: [], next: null });
      expect(await s.findApplied(c.id, 'leave_room', 'k-leave')).toBe('r1');
      // c blocked b (who added them), not a.
      expect(await s.blockedBy([c.id, a.id, c.id], b.id)).toEqual([c.id]);
      expect(await s.blockedBy([c.id], a.id)).toEqual([]);
      // Leaving a room one created blocks nobody; the others keep the room.
      await s.leaveRoom({ roomId: 'r2', userId: a.id, clientId: 'k-own', block: true });
      expect(await s.blockedBy([a.id], a.id)).toEqual([]);
      expect((await s.getRoom('r2'))!.memberIds).toEqual([b.id]);
      // Added back after leaving: at the end of the list.
      expect((await s.addMembers({ roomId: 'r2', userIds: [a.id], addedBy: b.id, clientId: 'k-back' })).memberIds).toEqual([b.id, a.id]);
      await expect(s.leaveRoom({ roomId: 'nope', userId: a.id, clientId: 'k-y', block: false })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    test('membership writes are atomic: a failed commit leaves no member, no block, no key', async () => {
      const [a, b, c] = [await user('a@x.io'), await user('b@x.io'), await user('c@x.io')];
      await room('r1', [a.id, b.id]);
      await expect(s.addMembers({ roomId: 'r1', userIds: [c.id], addedBy: a.id, clientId: 'k' }, { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.isMember('r1', c.id)).toBe(false);
      expect(await s.findApplied(a.id, 'add_members', 'k')).toBeUndefined();
      await expect(s.leaveRoom({ roomId: 'r1', userId: b.id, clientId: 'l', block: true }, { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.isMember('r1', b.id)).toBe(true);
      expect(await s.blockedBy([b.id], a.id)).toEqual([]);
      expect(await s.findApplied(b.id, 'leave_room', 'l')).toBeUndefined();
      await expect(s.createRoom({ id: 'rx', name: null, memberIds: [a.id], createdBy: a.id, createdAt: 1, clientId: 'kr' }, { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.getRoom('rx')).toBeUndefined();
      expect(await s.findApplied(a.id, 'create_room', 'kr')).toBeUndefined();
      expect((await s.getUserRooms(a.id)).map((r) => r.id)).toEqual(['r1']);
    });

    test('messages: seq per room from 1 without gaps, duplicate on (sender, clientId) across rooms, image kept', async () => {
      const [a, b] = [await user('a@x.io'), await user('b@x.io')];
      await room('r1', [a.id, b.id]);
      await room('r2', [a.id, b.id]);
      const first = await s.createMessage(msg('r1', a.id, 'k1'));
      expect(first).toEqual({ message: expect.objectContaining({ seq: 1, clientId: 'k1', roomId: 'r1' }), duplicate: false });
      expect(await s.createMessage({ ...msg('r2', a.id, 'k1', 'other'), id: 'another-id' })).toEqual({ message: first.message, duplicate: true });
      expect((await s.createMessage(msg('r1', b.id, 'k1'))).message.seq).toBe(2);
      expect((await s.createMessage(msg('r2', b.id, 'k2'))).message.seq).toBe(1);
      expect(await s.getMessageByClientId(a.id, 'k1')).toEqual(first.message);
      expect(await s.getMessageByClientId(a.id, 'nope')).toBeUndefined();
      const r1 = (await s.getRoom('r1'))!;
      expect(r1.lastSeq).toBe(2);
      expect(r1.lastMessage).toMatchObject({ senderId: b.id, seq: 2 });
      const withImage = await s.createMessage({ ...msg('r1', a.id, 'img'), image: { url: 'http://h/uploads/x', mime: 'image/png', size: 3, width: 1, height: 2 } });
      expect((await s.getMessages('r1', { after: 2, limit: 10 })).messages[0]).toEqual(withImage.message);
      await expect(s.createMessage(msg('nope', a.id, 'k9'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await s.getMessageByClientId(a.id, 'k9')).toBeUndefined();
    });

    test('a message whose hook throws leaves nothing behind and takes no seq; a duplicate runs no hook', async () => {
      const a = await user('a@x.io');
      await room('r', [a.id]);
      await s.createMessage(msg('r', a.id, 'one'));
      await expect(s.createMessage(msg('r', a.id, 'two'), { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.getMessageByClientId(a.id, 'two')).toBeUndefined();
      expect((await s.getRoom('r'))!.lastSeq).toBe(1);
      expect((await s.createMessage(msg('r', a.id, 'two'))).message.seq).toBe(2);
      expect((await s.createMessage(msg('r', a.id, 'two'), { beforeCommit: fail })).duplicate).toBe(true);
    });

    test("message changes (10.5): each applied change bumps the room's lastRev and stamps the message; no-ops and repeats do not", async () => {
      const [a, b] = [await user('a@x.io'), await user('b@x.io')];
      await room('r', [a.id, b.id]);
      const m = (await s.createMessage(msg('r', a.id, 'k1', 'hello'))).message;
      expect(m).not.toHaveProperty('rev');
      const change = (c: Parameters<AsyncStorage['changeMessage']>[0], hooks?: Parameters<AsyncStorage['changeMessage']>[1]) => s.changeMessage(c, hooks);
      const edited = await change({ kind: 'edit', text: 'hello!', at: 50, messageId: m.id, userId: a.id, clientChangeId: 'e1' });
      expect(edited).toEqual({ message: { ...m, text: 'hello!', editedAt: 50, rev: 1 }, changed: true, duplicate: false });
      const up = await change({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: b.id, clientChangeId: 'x1' });
      await change({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: a.id, clientChangeId: 'x2' });
      expect(up.message).toMatchObject({ rev: 2, reactions: { '👍': [b.id] } });
      // Asking for what is already so: the key is recorded, nothing else.
      const again = await change({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: b.id, clientChangeId: 'x3' });
      expect(again).toMatchObject({ changed: false, duplicate: false, message: { rev: 3, reactions: { '👍': [b.id, a.id] } } });
      expect(await s.findAppliedChange(b.id, 'x3')).toBe(m.id);
      expect(await s.findAppliedChange(b.id, 'nope')).toBeUndefined();
      // A repeated key changes nothing, whatever it asks now.
      const repeat = await change({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: b.id, clientChangeId: 'x1' });
      expect(repeat).toMatchObject({ changed: false, duplicate: true, message: { rev: 3, reactions: { '👍': [b.id, a.id] } } });
      await change({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: b.id, clientChangeId: 'x4' });
      await change({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: a.id, clientChangeId: 'x5' });
      expect(await s.getMessage(m.id)).not.toHaveProperty('reactions');
      expect(await s.getRoom('r')).toMatchObject({ lastRev: 5, lastMessage: { rev: 5, text: 'hello!', editedAt: 50 } });
      const m2 = (await s.createMessage(msg('r', b.id, 'k2'))).message;
      await change({ kind: 'edit', text: 'two', at: 51, messageId: m2.id, userId: b.id, clientChangeId: 'e2' });
      expect(await s.getChanges('r', 0, 10)).toEqual({ messages: [await s.getMessage(m.id), await s.getMessage(m2.id)], hasMore: false, lastRev: 6 });
      expect(await s.getChanges('r', 0, 1)).toMatchObject({ messages: [{ id: m.id }], hasMore: true });
      expect(await s.getChanges('r', 5, 1)).toMatchObject({ messages: [{ id: m2.id, rev: 6 }], hasMore: false });
      expect(await s.getChanges('r', 6, 10)).toEqual({ messages: [], hasMore: false, lastRev: 6 });
      expect(await s.getChanges('nope', 0, 10)).toEqual({ messages: [], hasMore: false, lastRev: 0 });
      await expect(change({ kind: 'delete', at: 1, messageId: 'nope', userId: a.id, clientChangeId: 'd0' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // A failed commit leaves no rev, no change and no key.
      await expect(change({ kind: 'edit', text: 'z', at: 70, messageId: m.id, userId: a.id, clientChangeId: 'e9' }, { beforeCommit: fail })).rejects.toThrow('injected');
      expect(await s.getMessage(m.id)).toMatchObject({ text: 'hello!', rev: 5 });
      expect((await s.getRoom('r'))!.lastRev).toBe(6);
      expect(await s.findAppliedChange(a.id, 'e9')).toBeUndefined();
    });

    test('message changes: a tombstone clears text, image and quote, frees its upload when nothing else shows it; no edit or reaction after', async () => {
      const [a, b] = [await user('a@x.io'), await user('b@x.io')];
      await room('r', [a.id, b.id]);
      const image = { url: 'http://h/uploads/up1', mime: 'image/png', size: 3 };
      const parent = (await s.createMessage({ ...msg('r', a.id, 'p', 'x'.repeat(150)), image })).message;
      const shared = (await s.createMessage({ ...msg('r', b.id, 'shared'), image: { ...image, url: '/uploads/up2' } })).message;
      await s.createMessage({ ...msg('r', a.id, 'shared'), image: { ...image, url: '/uploads/up2' } });
      const reply = (await s.createMessage({ ...msg('r', b.id, 'reply', 'yes'), replyTo: parent.id })).message;
      expect(reply.replyTo).toEqual({ id: parent.id, senderId: a.id, text: 'x'.repeat(100) });
      await s.changeMessage({ kind: 'react', emoji: '🎉', on: true, messageId: parent.id, userId: b.id, clientChangeId: 'x1' });
      const gone = await s.changeMessage({ kind: 'delete', at: 60, messageId: parent.id, userId: a.id, clientChangeId: 'd1' });
      expect(gone).toEqual({
        message: { id: parent.id, roomId: 'r', senderId: a.id, clientId: 'p', seq: 1, text: '', image: null, createdAt: parent.createdAt, deletedAt: 60, rev: 2 },
        changed: true, duplicate: false, freedUploadId: 'up1',
      });
      expect((await s.getMessages('r', { limit: 10 })).messages.at(-1)!.replyTo).toEqual({ id: parent.id, senderId: a.id, text: '', deleted: true });
      expect(await s.changeMessage({ kind: 'delete', at: 61, messageId: parent.id, userId: a.id, clientChangeId: 'd2' })).toMatchObject({ changed: false, message: { rev: 2 } });
      for (const c of [{ kind: 'edit', text: 'back', at: 62 }, { kind: 'react', emoji: '👍', on: true }] as const) {
        await expect(s.changeMessage({ ...c, messageId: parent.id, userId: a.id, clientChangeId: 'c' })).rejects.toMatchObject({ code: 'CONFLICT' });
      }
      expect(await s.findAppliedChange(a.id, 'c')).toBeUndefined();
      expect(await s.changeMessage({ kind: 'delete', at: 63, messageId: shared.id, userId: b.id, clientChangeId: 'd3' })).not.toHaveProperty('freedUploadId');
      expect((await s.getRoom('r'))!.lastRev).toBe(3);
    });

    test('history pages: newest, before, after with exact hasMore', async () => {
      const a = await user('a@x.io');
      await room('r', [a.id]);
      for (let i = 1; i <= 25; i++) await s.createMessage(msg('r', a.id, `c${i}`));
      const newest = await s.getMessages('r', { limit: 10 });
      expect([seqs(newest), newest.hasMore]).toEqual([[16, 17, 18, 19, 20, 21, 22, 23, 24, 25], true]);
      expect((await s.getMessages('r', { limit: 25 })).hasMore).toBe(false);
      const before = await s.getMessages('r', { before: 6, limit: 3 });
      expect([seqs(before), before.hasMore]).toEqual([[3, 4, 5], true]);
      expect(await s.getMessages('r', { before: 4, limit: 3 })).toMatchObject({ hasMore: false });
      const after = await s.getMessages('r', { after: 20, limit: 5 });
      expect([seqs(after), after.hasMore]).toEqual([[21, 22, 23, 24, 25], false]);
      expect((await s.getMessages('r', { after: 19, limit: 5 })).hasMore).toBe(true);
      expect(seqs(await s.getMessages('r', { after: 0, limit: 2 }))).toEqual([1, 2]);
      expect(await s.getMessages('r', { before: 1, limit: 5 })).toEqual({ messages: [], hasMore: false });
      expect(await s.getMessages('r', { after: 99, limit: 5 })).toEqual({ messages: [], hasMore: false });
      expect(seqs(await s.getMessages('r', { before: 1000, limit: 2 }))).toEqual([24, 25]);
      expect(await s.getMessages('nope', { limit: 5 })).toEqual({ messages: [], hasMore: false });
    });

    test("read cursors: never back, clamped to lastSeq, members only; own messages after a cursor counted", async () => {
      const [a, b, c] = [await user('a@x.io'), await user('b@x.io'), await user('c@x.io')];
      await room('r', [a.id, b.id]);
      expect(await s.getReadStates(b.id, ['r'])).toEqual(new Map([['r', { readSeqs: {}, ownAfter: 0 }]]));
      for (const id of ['1', '2', '3']) await s.createMessage(msg('r', a.id, id));
      await s.createMessage(msg('r', b.id, '4'));
      await s.createMessage(msg('r', a.id, '5'));
      expect(await s.countOwnAfter('r', b.id, 0)).toBe(1);
      expect(await s.countOwnAfter('r', b.id, 4)).toBe(0);
      expect(await s.countOwnAfter('r', a.id, 3)).toBe(1);
      expect(await s.countOwnAfter('nope', a.id, 0)).toBe(0);
      expect(await s.markRead('r', b.id, 2)).toEqual({ seq: 2, moved: true });
      expect(await s.markRead('r', b.id, 1)).toEqual({ seq: 2, moved: false }); // never back
      expect(await s.markRead('r', b.id, 99)).toEqual({ seq: 5, moved: true }); // clamped
      expect(await s.markRead('r', a.id, 3)).toEqual({ seq: 3, moved: true });
      await room('r2', [b.id, a.id]);
      await s.createMessage(msg('r2', a.id, 'x'));
      await s.markRead('r2', b.id, 1);
      const states = await s.getReadStates(a.id, ['r', 'r2', 'nope']);
      expect(states).toEqual(new Map([
        ['r', { readSeqs: { [a.id]: 3, [b.id]: 5 }, ownAfter: 1 }],
        ['r2', { readSeqs: { [b.id]: 1 }, ownAfter: 1 }],
      ]));
      expect(Object.keys(states.get('r')!.readSeqs)).toEqual([a.id, b.id]); // member order
      expect(await s.getReadStates(c.id, ['r', 'r2'])).toEqual(new Map());
      expect(await s.getReadStates(a.id, [])).toEqual(new Map());
      await expect(s.markRead('r', c.id, 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(s.markRead('nope', a.id, 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
      await expect(s.markRead('r', a.id, 5, { beforeCommit: fail })).rejects.toThrow('injected');
      expect((await s.getReadStates(a.id, ['r'])).get('r')!.readSeqs[a.id]).toBe(3);
    });

    test('presence and co-members: last seen set, overwritten, read for those that have one; unknown users not written', async () => {
      const [a, b, c, d] = [await user('a@x.io'), await user('b@x.io'), await user('c@x.io'), await user('d@x.io')];
      await s.setLastSeenAt(a.id, 10);
      await s.setLastSeenAt(a.id, 20);
      await s.setLastSeenAt('u-nobody', 30);
      expect(await s.getLastSeenAt([a.id, b.id, 'u-nobody', a.id])).toEqual(new Map([[a.id, 20]]));
      await room('r1', [a.id, b.id]);
      await room('r2', [b.id, c.id, a.id]);
      expect((await s.getCoMemberIds(a.id)).sort()).toEqual([b.id, c.id].sort());
      expect((await s.getCoMemberIds(d.id))).toEqual([]);
    });

    test('uploads metadata: fields kept, totals by owner, orphans swept after their time, used ones stay', async () => {
      const a = await user('a@x.io');
      await s.createUpload({ id: 'up1', ownerId: a.id, url: '/uploads/up1', mime: 'image/png', size: 4, width: 2, height: 2, createdAt: 100 });
      await s.createUpload({ id: 'up2', ownerId: a.id, url: '/uploads/up2', mime: 'image/gif', size: 6, createdAt: 100 });
      await s.createUpload({ id: 'up3', ownerId: a.id, url: '/uploads/up3', mime: 'image/gif', size: 1, createdAt: 500 });
      expect(await s.getUpload('up1')).toEqual({ id: 'up1', ownerId: a.id, url: '/uploads/up1', mime: 'image/png', size: 4, width: 2, height: 2, createdAt: 100 });
      expect(await s.getUpload('up2')).not.toHaveProperty('width');
      expect(await s.getUpload('nope')).toBeUndefined();
      expect(await s.uploadBytesOf(a.id)).toBe(11);
      expect(await s.uploadBytesOf('nobody')).toBe(0);
      await s.markUploadUsed('up1');
      expect(await s.deleteOrphanUploads(200)).toBe(1);
      expect(await s.getUpload('up2')).toBeUndefined();
      expect(await s.getUpload('up1')).toBeDefined();
      expect(await s.getUpload('up3')).toBeDefined();
      expect(await s.deleteOrphanUploads(1_000, 0)).toBe(0); // at most `max`
      await s.deleteUpload('up3');
      expect(await s.getUpload('up3')).toBeUndefined();
      expect(await s.uploadBytesOf(a.id)).toBe(4);
    });

    test('upload files: the bytes through uploadFiles, the record in the store; a deleted or swept record takes its file', async () => {
      const a = await user('a@x.io');
      const write = async (id: string, ...chunks: number[][]) => {
        const writer = s.uploadFiles.create(id);
        for (const chunk of chunks) writer.write(Buffer.from(chunk));
        await writer.commit();
      };
      await write('up1', [1, 2], [3, 4]);
      await s.createUpload({ id: 'up1', ownerId: a.id, url: '/uploads/up1', mime: 'image/png', size: 4, createdAt: 5 });
      await write('old', [9]);
      await s.createUpload({ id: 'old', ownerId: a.id, url: '/uploads/old', mime: 'image/png', size: 1, createdAt: 1 });
      expect((await s.uploadIds()).sort()).toEqual(['old', 'up1']);
      const file = (await s.uploadFiles.open('up1'))!;
      const bytes = await file.handle.readFile();
      await file.handle.close();
      expect(bytes.equals(Buffer.from([1, 2, 3, 4]))).toBe(true);
      await s.markUploadUsed('up1');
      expect(await s.deleteOrphanUploads(3)).toBe(1);
      await expect.poll(async () => (await s.uploadFiles.list()).ids).toEqual(['up1']);
      await s.deleteUpload('up1');
      expect(await s.uploadIds()).toEqual([]);
      await expect.poll(async () => (await s.uploadFiles.list()).ids).toEqual([]);
    });
  });
}
