import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, test } from 'vitest';
import { ChatError, type Message, type User } from '@chat/sdk/protocol';
import { MemoryStorage, SqliteStorage, type NewMessage, type Storage } from '../src/storage/index.js';

const dir = mkdtempSync(join(tmpdir(), 'chat-storage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

const implementations: Array<[string, () => Storage]> = [
  ['memory', () => new MemoryStorage()],
  ['sqlite :memory:', () => new SqliteStorage(':memory:')],
  ['sqlite file', () => new SqliteStorage(join(dir, `db-${++files}`, 'chat.sqlite'))],
];

describe.each(implementations)('%s storage', (_name, make) => {
  let s: Storage;
  let t = 1_000;
  const user = (email: string, name = email.split('@')[0]!): User => s.createUser({ id: `u-${email}`, email, name, createdAt: ++t });
  const msg = (roomId: string, senderId: string, clientId: string, text = clientId): NewMessage => ({
    id: `m-${senderId}-${clientId}`, roomId, senderId, clientId, text, image: null, createdAt: ++t,
  });
  const fail = () => {
    throw new ChatError('INTERNAL', 'injected');
  };

  beforeEach(() => {
    s = make();
  });
  afterEach(() => s.close());

  test('users: create, read, CONFLICT on email, ids lookup', () => {
    const a = user('a@x.io', 'Ann');
    expect(s.getUser(a.id)).toEqual(a);
    expect(s.getUserByEmail('a@x.io')).toEqual(a);
    expect(() => user('a@x.io')).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    expect(s.getUsersByIds([a.id, 'nope', a.id])).toEqual([a]);
    expect(s.getUser('nope')).toBeUndefined();
  });

  test('searchUsers: prefix of the lower-cased name or the whole email (never an email prefix), by email, after a cursor', () => {
    user('bob@x.io', 'Zed Bobson');
    user('zara@x.io', 'Bobby');
    user('carl@x.io', 'Carl');
    user('ümit@x.io', 'Ümit');
    expect(s.searchUsers('bob', null, 10).map((u) => u.email)).toEqual(['zara@x.io']);
    expect(s.searchUsers('bob@x.io', null, 10).map((u) => u.email)).toEqual(['bob@x.io']);
    expect(s.searchUsers('bob@x', null, 10)).toEqual([]);
    expect(s.searchUsers('zed', null, 10).map((u) => u.email)).toEqual(['bob@x.io']);
    expect(s.searchUsers('ümit', null, 10).map((u) => u.email)).toEqual(['ümit@x.io']);
    expect(s.searchUsers('', null, 2).map((u) => u.email)).toEqual(['bob@x.io', 'carl@x.io']);
    expect(s.searchUsers('', 'carl@x.io', 10).map((u) => u.email)).toEqual(['zara@x.io', 'ümit@x.io']);
    expect(s.searchUsers('%', null, 10)).toEqual([]);
    expect(s.searchUsers('_', null, 10)).toEqual([]);
  });

  test('sessions: create, find by token hash, delete', () => {
    const a = user('a@x.io');
    const session = { id: 's1', userId: a.id, tokenHash: 'h1', createdAt: 1, expiresAt: 2 };
    s.createSession(session);
    expect(s.getSessionByTokenHash('h1')).toEqual(session);
    s.deleteSession('s1');
    expect(s.getSessionByTokenHash('h1')).toBeUndefined();
  });

  test('rooms: members in order, membership, most recent activity first', () => {
    const [a, b, c] = [user('a@x.io'), user('b@x.io'), user('c@x.io')];
    const r1 = s.createRoom({ id: 'r1', name: 'one', memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    expect(r1).toEqual({ id: 'r1', name: 'one', memberIds: [a.id, b.id], createdBy: a.id, createdAt: t, lastSeq: 0, lastMessage: null, lastRev: 0 });
    s.createRoom({ id: 'r2', name: null, memberIds: [b.id, c.id, a.id], createdBy: b.id, createdAt: t }); // same millisecond
    expect(s.isMember('r1', b.id)).toBe(true);
    expect(s.isMember('r1', c.id)).toBe(false);
    expect(s.getUserRooms(a.id).map((r) => r.id)).toEqual(['r2', 'r1']);
    s.createMessage(msg('r1', b.id, 'x'));
    expect(s.getUserRooms(a.id).map((r) => r.id)).toEqual(['r1', 'r2']);
    expect(s.getUserRooms(c.id).map((r) => r.id)).toEqual(['r2']);
    expect(s.getRoom('r2')!.memberIds).toEqual([b.id, c.id, a.id]);
  });

  test('1.1 membership: paged room lists, add, leave with block, idempotency keys recorded with the change', () => {
    const [a, b, c] = [user('a@x.io'), user('b@x.io'), user('c@x.io')];
    s.createRoom({ id: 'r1', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t, clientId: 'k-r1' });
    s.createRoom({ id: 'r2', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    s.createRoom({ id: 'r3', name: null, memberIds: [b.id, a.id], createdBy: b.id, createdAt: ++t });
    expect(s.findApplied(a.id, 'create_room', 'k-r1')).toBe('r1');
    expect(s.findApplied(b.id, 'create_room', 'k-r1')).toBeUndefined();
    const first = s.getUserRoomsPage(a.id, { limit: 2 });
    expect(first.rooms.map((r) => r.id)).toEqual(['r3', 'r2']);
    const rest = s.getUserRoomsPage(a.id, { limit: 2, before: first.next! });
    expect(rest).toEqual({ rooms: [expect.objectContaining({ id: 'r1' })], next: null });

    expect(s.addMembers({ roomId: 'r1', userIds: [c.id], addedBy: b.id, clientId: 'k-add' }).memberIds).toEqual([a.id, b.id, c.id]);
    expect(s.findApplied(b.id, 'add_members', 'k-add')).toBe('r1');
    expect(s.isMember('r1', c.id)).toBe(true);
    expect(s.leaveRoom({ roomId: 'r1', userId: c.id, clientId: 'k-leave', block: true }).memberIds).toEqual([a.id, b.id]);
    expect(s.isMember('r1', c.id)).toBe(false);
    expect(s.getUserRoomsPage(c.id, { limit: 10 }).rooms).toEqual([]);
    expect(s.findApplied(c.id, 'leave_room', 'k-leave')).toBe('r1');
    // c blocked b (who added them), not a.
    expect(s.blockedBy([c.id, a.id], b.id)).toEqual([c.id]);
    expect(s.blockedBy([c.id], a.id)).toEqual([]);
    // Leaving a room one created blocks nobody; the others keep the room.
    s.leaveRoom({ roomId: 'r2', userId: a.id, clientId: 'k-own', block: true });
    expect(s.blockedBy([a.id], a.id)).toEqual([]);
    expect(s.getRoom('r2')!.memberIds).toEqual([b.id]);
  });

  test('1.1 membership writes are atomic: a failed commit leaves no member, no block, no key', () => {
    const [a, b, c] = [user('a@x.io'), user('b@x.io'), user('c@x.io')];
    s.createRoom({ id: 'r1', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    expect(() => s.addMembers({ roomId: 'r1', userIds: [c.id], addedBy: a.id, clientId: 'k' }, { beforeCommit: fail })).toThrow();
    expect(s.isMember('r1', c.id)).toBe(false);
    expect(s.findApplied(a.id, 'add_members', 'k')).toBeUndefined();
    expect(() => s.leaveRoom({ roomId: 'r1', userId: b.id, clientId: 'l', block: true }, { beforeCommit: fail })).toThrow();
    expect(s.isMember('r1', b.id)).toBe(true);
    expect(s.blockedBy([b.id], a.id)).toEqual([]);
    expect(s.findApplied(b.id, 'leave_room', 'l')).toBeUndefined();
  });

  test('co-members: everyone sharing a room with the user, once, without the user', () => {
    const [a, b, c, d] = [user('a@x.io'), user('b@x.io'), user('c@x.io'), user('d@x.io')];
    s.createRoom({ id: 'r1', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    s.createRoom({ id: 'r2', name: null, memberIds: [b.id, c.id, a.id], createdBy: b.id, createdAt: ++t });
    expect(s.getCoMemberIds(a.id).sort()).toEqual([b.id, c.id].sort());
    expect(s.getCoMemberIds(c.id).sort()).toEqual([a.id, b.id].sort());
    expect(s.getCoMemberIds(d.id)).toEqual([]);
  });

  test('last seen: set, overwritten, read for those that have one; unknown users are not written', () => {
    const [a, b] = [user('a@x.io'), user('b@x.io')];
    s.setLastSeenAt(a.id, 10);
    s.setLastSeenAt(a.id, 20);
    s.setLastSeenAt('u-nobody', 30);
    expect(s.getLastSeenAt([a.id, b.id, 'u-nobody', a.id])).toEqual(new Map([[a.id, 20]]));
  });

  test('messages: seq per room from 1, idempotent on (sender, clientId) across rooms', () => {
    const [a, b] = [user('a@x.io'), user('b@x.io')];
    s.createRoom({ id: 'r1', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    s.createRoom({ id: 'r2', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    const first = s.createMessage(msg('r1', a.id, 'k1'));
    expect(first).toEqual({ message: expect.objectContaining({ seq: 1, clientId: 'k1', roomId: 'r1' }), duplicate: false });
    expect(s.createMessage({ ...msg('r2', a.id, 'k1', 'other'), id: 'another-id' })).toEqual({ message: first.message, duplicate: true });
    expect(s.createMessage(msg('r1', b.id, 'k1')).message.seq).toBe(2);
    expect(s.createMessage(msg('r2', b.id, 'k2')).message.seq).toBe(1);
    expect(s.getMessageByClientId(a.id, 'k1')).toEqual(first.message);
    const room = s.getRoom('r1')!;
    expect(room.lastSeq).toBe(2);
    expect(room.lastMessage).toMatchObject({ senderId: b.id, seq: 2 });
    const withImage = s.createMessage({ ...msg('r1', a.id, 'img'), image: { url: 'http://h/uploads/x', mime: 'image/png', size: 3, width: 1, height: 2 } });
    expect(s.getMessages('r1', { after: 2, limit: 10 }).messages[0]).toEqual(withImage.message);
    expect(() => s.createMessage(msg('nope', a.id, 'k9'))).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  test('getMessages: newest, before, after with exact hasMore', () => {
    const a = user('a@x.io');
    s.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
    for (let i = 1; i <= 25; i++) s.createMessage(msg('r', a.id, `c${i}`));
    const seqs = (page: { messages: Message[] }) => page.messages.map((m) => m.seq);
    const newest = s.getMessages('r', { limit: 10 });
    expect([seqs(newest), newest.hasMore]).toEqual([[16, 17, 18, 19, 20, 21, 22, 23, 24, 25], true]);
    expect(s.getMessages('r', { limit: 25 }).hasMore).toBe(false);
    const before = s.getMessages('r', { before: 6, limit: 3 });
    expect([seqs(before), before.hasMore]).toEqual([[3, 4, 5], true]);
    expect(s.getMessages('r', { before: 4, limit: 3 })).toMatchObject({ hasMore: false });
    const after = s.getMessages('r', { after: 20, limit: 5 });
    expect([seqs(after), after.hasMore]).toEqual([[21, 22, 23, 24, 25], false]);
    expect(s.getMessages('r', { after: 19, limit: 5 }).hasMore).toBe(true);
    expect(s.getMessages('r', { after: 0, limit: 2 }).messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(s.getMessages('r', { before: 1, limit: 5 })).toEqual({ messages: [], hasMore: false });
    expect(s.getMessages('r', { after: 99, limit: 5 })).toEqual({ messages: [], hasMore: false });
    expect(s.getMessages('r', { before: 1000, limit: 2 }).messages.map((m) => m.seq)).toEqual([24, 25]);
  });

  test('a write whose hook throws leaves nothing behind', () => {
    const a = user('a@x.io');
    expect(() => s.createUser({ id: 'u2', email: 'b@x.io', name: 'b', createdAt: 1 }, { beforeCommit: fail })).toThrow();
    expect(s.getUserByEmail('b@x.io')).toBeUndefined();
    expect(() => s.createRoom({ id: 'rx', name: null, memberIds: [a.id], createdBy: a.id, createdAt: 1 }, { beforeCommit: fail })).toThrow();
    expect(s.getRoom('rx')).toBeUndefined();
    expect(s.getUserRooms(a.id)).toEqual([]);
    s.createRoom({ id: 'r', name: null, memberIds: [a.id], createdBy: a.id, createdAt: ++t });
    s.createMessage(msg('r', a.id, 'one'));
    expect(() => s.createMessage(msg('r', a.id, 'two'), { beforeCommit: fail })).toThrow();
    expect(s.getMessageByClientId(a.id, 'two')).toBeUndefined();
    expect(s.getRoom('r')!.lastSeq).toBe(1);
    expect(s.createMessage(msg('r', a.id, 'two')).message.seq).toBe(2);
    // The hook does not run for a duplicate: nothing is written.
    expect(s.createMessage(msg('r', a.id, 'two'), { beforeCommit: fail }).duplicate).toBe(true);
  });

  test('message changes (10.5): each applied change bumps the room\'s lastRev and stamps the message; no-ops and repeats do not', () => {
    const [a, b] = [user('a@x.io'), user('b@x.io')];
    s.createRoom({ id: 'r', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    const m = s.createMessage(msg('r', a.id, 'k1', 'hello')).message;
    expect(m).not.toHaveProperty('rev');
    const edited = s.changeMessage({ kind: 'edit', text: 'hello!', at: 50, messageId: m.id, userId: a.id, clientChangeId: 'e1' });
    expect(edited).toEqual({ message: { ...m, text: 'hello!', editedAt: 50, rev: 1 }, changed: true, duplicate: false });
    const up = s.changeMessage({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: b.id, clientChangeId: 'x1' });
    s.changeMessage({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: a.id, clientChangeId: 'x2' });
    expect(up.message).toMatchObject({ rev: 2, reactions: { '👍': [b.id] } });
    // Asking for what is already so: the key is recorded, nothing else.
    const again = s.changeMessage({ kind: 'react', emoji: '👍', on: true, messageId: m.id, userId: b.id, clientChangeId: 'x3' });
    expect(again).toMatchObject({ changed: false, duplicate: false, message: { rev: 3, reactions: { '👍': [b.id, a.id] } } });
    expect(s.findAppliedChange(b.id, 'x3')).toBe(m.id);
    // A repeated key changes nothing, whatever it asks now.
    const repeat = s.changeMessage({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: b.id, clientChangeId: 'x1' });
    expect(repeat).toMatchObject({ changed: false, duplicate: true, message: { rev: 3, reactions: { '👍': [b.id, a.id] } } });
    s.changeMessage({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: b.id, clientChangeId: 'x4' });
    s.changeMessage({ kind: 'react', emoji: '👍', on: false, messageId: m.id, userId: a.id, clientChangeId: 'x5' });
    expect(s.getMessage(m.id)).not.toHaveProperty('reactions'); // emoji with nobody left are removed
    expect(s.getRoom('r')).toMatchObject({ lastRev: 5, lastMessage: { rev: 5, text: 'hello!', editedAt: 50 } });
    // get_changes: by rev, each message once, exact hasMore.
    const m2 = s.createMessage(msg('r', b.id, 'k2')).message;
    s.changeMessage({ kind: 'edit', text: 'two', at: 51, messageId: m2.id, userId: b.id, clientChangeId: 'e2' });
    expect(s.getChanges('r', 0, 10)).toEqual({ messages: [s.getMessage(m.id), s.getMessage(m2.id)], hasMore: false, lastRev: 6 });
    expect(s.getChanges('r', 0, 1)).toMatchObject({ messages: [{ id: m.id }], hasMore: true });
    expect(s.getChanges('r', 5, 1)).toMatchObject({ messages: [{ id: m2.id, rev: 6 }], hasMore: false });
    expect(s.getChanges('r', 6, 10)).toEqual({ messages: [], hasMore: false, lastRev: 6 });
    expect(() => s.changeMessage({ kind: 'delete', at: 1, messageId: 'nope', userId: a.id, clientChangeId: 'd0' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  test('message changes: a tombstone clears text, image, reactions and its quote, frees its upload when nothing else shows it; no edit or reaction after', () => {
    const [a, b] = [user('a@x.io'), user('b@x.io')];
    s.createRoom({ id: 'r', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    const image = { url: 'http://h/uploads/up1', mime: 'image/png', size: 3 };
    const parent = s.createMessage({ ...msg('r', a.id, 'p', 'x'.repeat(150)), image }).message;
    const shared = s.createMessage({ ...msg('r', b.id, 'shared'), image: { ...image, url: '/uploads/up2' } }).message;
    s.createMessage({ ...msg('r', a.id, 'shared'), image: { ...image, url: '/uploads/up2' } });
    const reply = s.createMessage({ ...msg('r', b.id, 'reply', 'yes'), replyTo: parent.id }).message;
    expect(reply.replyTo).toEqual({ id: parent.id, senderId: a.id, text: 'x'.repeat(100) });
    s.changeMessage({ kind: 'react', emoji: '🎉', on: true, messageId: parent.id, userId: b.id, clientChangeId: 'x1' });
    const gone = s.changeMessage({ kind: 'delete', at: 60, messageId: parent.id, userId: a.id, clientChangeId: 'd1' });
    expect(gone).toEqual({
      message: { id: parent.id, roomId: 'r', senderId: a.id, clientId: 'p', seq: 1, text: '', image: null, createdAt: parent.createdAt, deletedAt: 60, rev: 2 },
      changed: true, duplicate: false, freedUploadId: 'up1',
    });
    // The quote is read from the parent each time: the reply now says it was deleted.
    expect(s.getMessages('r', { limit: 10 }).messages.at(-1)!.replyTo).toEqual({ id: parent.id, senderId: a.id, text: '', deleted: true });
    expect(s.changeMessage({ kind: 'delete', at: 61, messageId: parent.id, userId: a.id, clientChangeId: 'd2' })).toMatchObject({ changed: false, message: { rev: 2 } });
    for (const change of [{ kind: 'edit', text: 'back', at: 62 }, { kind: 'react', emoji: '👍', on: true }] as const) {
      expect(() => s.changeMessage({ ...change, messageId: parent.id, userId: a.id, clientChangeId: 'c' })).toThrow(expect.objectContaining({ code: 'CONFLICT' }));
    }
    expect(s.findAppliedChange(a.id, 'c')).toBeUndefined();
    // An upload another message still shows stays.
    expect(s.changeMessage({ kind: 'delete', at: 63, messageId: shared.id, userId: b.id, clientChangeId: 'd3' })).not.toHaveProperty('freedUploadId');
    expect(s.getRoom('r')!.lastRev).toBe(3);
  });

  test('message changes: at most 50 distinct emoji; a failed commit leaves no rev, no change and no key', () => {
    const [a, b] = [user('a@x.io'), user('b@x.io')];
    s.createRoom({ id: 'r', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    const m = s.createMessage(msg('r', a.id, 'k')).message;
    const emoji = [...'😀😁😂🤣😃😄😅😆😉😊😋😎😍😘🥰😗😙🥲😚🙂🤗🤩🤔🫡🤨😐😑😶🫥🙄😏😣😥😮🤐😯😪😫🥱😴😌😛😜😝🤤😒😓😔😕🫤🙃🫠'];
    expect(emoji.length).toBeGreaterThanOrEqual(51);
    emoji.slice(0, 50).forEach((e, i) => s.changeMessage({ kind: 'react', emoji: e, on: true, messageId: m.id, userId: a.id, clientChangeId: `r${i}` }));
    expect(() => s.changeMessage({ kind: 'react', emoji: emoji[50]!, on: true, messageId: m.id, userId: b.id, clientChangeId: 'r50' })).toThrow(
      expect.objectContaining({ code: 'TOO_LARGE' }),
    );
    // Another user on an emoji already there is fine.
    expect(s.changeMessage({ kind: 'react', emoji: emoji[0]!, on: true, messageId: m.id, userId: b.id, clientChangeId: 'b0' }).message.reactions![emoji[0]!]).toEqual([a.id, b.id]);
    expect(() => s.changeMessage({ kind: 'edit', text: 'z', at: 70, messageId: m.id, userId: a.id, clientChangeId: 'e' }, { beforeCommit: fail })).toThrow();
    expect(s.getMessage(m.id)).toMatchObject({ text: 'k', rev: 51 });
    expect(s.getMessage(m.id)).not.toHaveProperty('editedAt');
    expect(s.getRoom('r')!.lastRev).toBe(51);
    expect(s.findAppliedChange(a.id, 'e')).toBeUndefined();
  });

  test('read cursors: never back, clamped to lastSeq, members only; countOwnAfter counts a sender\'s messages after a seq', () => {
    const [a, b, c] = [user('a@x.io'), user('b@x.io'), user('c@x.io')];
    s.createRoom({ id: 'r', name: null, memberIds: [a.id, b.id], createdBy: a.id, createdAt: ++t });
    expect(s.getReadStates(b.id, ['r'])).toEqual(new Map([['r', { readSeqs: {}, ownAfter: 0 }]]));
    expect(s.countOwnAfter('r', b.id, 0)).toBe(0);
    for (const id of ['1', '2', '3']) s.createMessage(msg('r', a.id, id));
    s.createMessage(msg('r', b.id, '4'));
    s.createMessage(msg('r', a.id, '5'));
    expect(s.countOwnAfter('r', b.id, 0)).toBe(1);
    expect(s.countOwnAfter('r', b.id, 4)).toBe(0);
    expect(s.countOwnAfter('r', a.id, 0)).toBe(4);
    expect(s.countOwnAfter('r', a.id, 3)).toBe(1);
    expect(s.countOwnAfter('nope', a.id, 0)).toBe(0);
    expect(s.markRead('r', b.id, 2)).toEqual({ seq: 2, moved: true });
    expect(s.markRead('r', b.id, 1)).toEqual({ seq: 2, moved: false }); // never back
    expect(s.markRead('r', b.id, 2)).toEqual({ seq: 2, moved: false });
    expect(s.markRead('r', b.id, 99)).toEqual({ seq: 5, moved: true }); // clamped
    expect(s.markRead('r', a.id, 3)).toEqual({ seq: 3, moved: true });
    s.createRoom({ id: 'r2', name: null, memberIds: [b.id, a.id], createdBy: b.id, createdAt: ++t });
    s.createMessage(msg('r2', a.id, 'x'));
    s.markRead('r2', b.id, 1);
    // Several rooms at once; rooms the user is not in (or that do not exist) are left out.
    const states = s.getReadStates(a.id, ['r', 'r2', 'nope']);
    expect(states).toEqual(new Map([
      ['r', { readSeqs: { [a.id]: 3, [b.id]: 5 }, ownAfter: 1 }], // a's seq 5 is after a's cursor 3
      ['r2', { readSeqs: { [b.id]: 1 }, ownAfter: 1 }],
    ]));
    expect(Object.keys(states.get('r')!.readSeqs)).toEqual([a.id, b.id]); // member order
    expect(s.getReadStates(c.id, ['r', 'r2'])).toEqual(new Map());
    expect(s.getReadStates(a.id, [])).toEqual(new Map());
    expect(() => s.markRead('r', c.id, 1)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => s.markRead('nope', a.id, 1)).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => s.markRead('r', a.id, 5, { beforeCommit: fail })).toThrow();
    expect(s.getReadStates(a.id, ['r']).get('r')!.readSeqs[a.id]).toBe(3);
  });

  const writeFile = async (id: string, ...chunks: number[][]) => {
    const writer = s.uploadFiles.create(id);
    for (const chunk of chunks) writer.write(Buffer.from(chunk));
    await writer.commit();
  };
  const readFile = async (id: string) => {
    const file = await s.uploadFiles.open(id);
    if (!file) return undefined;
    const bytes = await file.handle.readFile();
    await file.handle.close();
    return bytes;
  };

  test('uploads: the bytes in a file (written under a temporary name, renamed when complete), the fields in the record', async () => {
    const a = user('a@x.io');
    const writer = s.uploadFiles.create('up1');
    writer.write(Buffer.from([1, 2]));
    writer.write(Buffer.from([3, 4]));
    expect(await readFile('up1')).toBeUndefined(); // no file under its name before the commit
    expect((await s.uploadFiles.list()).partials).toHaveLength(1);
    await writer.commit();
    expect(await s.uploadFiles.list()).toEqual({ ids: ['up1'], partials: [] });
    s.createUpload({ id: 'up1', ownerId: a.id, url: '/uploads/up1', mime: 'image/png', size: 4, width: 2, height: 2, createdAt: 5 });
    await writeFile('up2', [9, 9, 9, 9]);
    s.createUpload({ id: 'up2', ownerId: a.id, url: '/uploads/up2', mime: 'image/gif', size: 4, createdAt: 6 });
    const got = s.getUpload('up1')!;
    expect(got).toEqual({ id: 'up1', ownerId: a.id, url: '/uploads/up1', mime: 'image/png', size: 4, width: 2, height: 2, createdAt: 5 });
    expect((await readFile('up1'))!.equals(Buffer.from([1, 2, 3, 4]))).toBe(true);
    expect(s.getUpload('up2')).not.toHaveProperty('width');
    expect(s.getUpload('nope')).toBeUndefined();
    expect(s.uploadBytesOf(a.id)).toBe(8);
    expect(s.uploadIds().sort()).toEqual(['up1', 'up2']);
    s.deleteUpload('up2');
    expect(s.getUpload('up2')).toBeUndefined();
    await expect.poll(() => readFile('up2')).toBeUndefined(); // the file goes in the background
  });

  test('an aborted upload leaves no file; the start-up sweep removes partials, stray files and records without files', async () => {
    const a = user('a@x.io');
    const aborted = s.uploadFiles.create('gone');
    aborted.write(Buffer.from([1, 2, 3]));
    // The file is opened in the background: seen first, so that its absence below means removed, not not yet made.
    await expect.poll(async () => (await s.uploadFiles.list()).partials).toHaveLength(1);
    aborted.abort();
    await expect.poll(async () => (await s.uploadFiles.list()).partials).toEqual([]);
    const { sweepUploadFiles } = await import('../src/storage/index.js');
    const cut = s.uploadFiles.create('cut');
    cut.write(Buffer.from([1])); // as if the process died here
    await expect.poll(async () => (await s.uploadFiles.list()).partials).toHaveLength(1);
    await writeFile('stray', [1]); // a file whose record never came
    await writeFile('kept', [1]);
    s.createUpload({ id: 'kept', ownerId: a.id, url: '/uploads/kept', mime: 'image/png', size: 1, createdAt: 1 });
    s.createUpload({ id: 'lost', ownerId: a.id, url: '/uploads/lost', mime: 'image/png', size: 1, createdAt: 1 });
    expect(await sweepUploadFiles(s)).toEqual({ partials: 1, strayFiles: 1, missingFiles: 1 });
    expect(await s.uploadFiles.list()).toEqual({ ids: ['kept'], partials: [] });
    expect(s.uploadIds()).toEqual(['kept']);
    cut.abort(); // closes its descriptor
  });

  test('a sweep in a shared database and folder leaves other processes\' uploads in flight and their records alone', async () => {
    const a = user('a@x.io');
    const { sweepUploadFiles, SHARED_SWEEP_AGE_MS } = await import('../src/storage/index.js');
    const writing = s.uploadFiles.create('writing'); // another process's upload in flight
    writing.write(Buffer.from([1]));
    await expect.poll(async () => (await s.uploadFiles.list()).partials).toHaveLength(1);
    await writeFile('renamed', [1]); // renamed by another process, its record not committed yet
    s.createUpload({ id: 'elsewhere', ownerId: a.id, url: '/uploads/elsewhere', mime: 'image/png', size: 1, createdAt: 1 });
    expect(await sweepUploadFiles(s, { shared: true })).toEqual({ partials: 0, strayFiles: 0, missingFiles: 0 });
    expect((await s.uploadFiles.list()).ids).toEqual(['renamed']);
    expect(s.uploadIds()).toEqual(['elsewhere']); // a record naming a file in another process's folder
    // The same files once older than any upload can take: leftovers of a process that died.
    const later = Date.now() + SHARED_SWEEP_AGE_MS + 1000;
    expect(await sweepUploadFiles(s, { shared: true, now: later })).toEqual({ partials: 1, strayFiles: 1, missingFiles: 0 });
    expect(await s.uploadFiles.list()).toEqual({ ids: [], partials: [] });
    expect(s.uploadIds()).toEqual(['elsewhere']);
    writing.abort();
  });

  test('orphan uploads (never used by a message) are deleted after their time, files too; used ones stay', async () => {
    const a = user('a@x.io');
    for (const id of ['old', 'used', 'new']) {
      await writeFile(id, [1]);
      s.createUpload({ id, ownerId: a.id, url: `/uploads/${id}`, mime: 'image/png', size: 1, createdAt: id === 'new' ? 500 : 100 });
    }
    s.markUploadUsed('used');
    expect(s.deleteOrphanUploads(200)).toBe(1);
    expect(s.getUpload('old')).toBeUndefined();
    expect(s.getUpload('used')).toBeDefined();
    expect(s.getUpload('new')).toBeDefined();
    expect(s.uploadBytesOf(a.id)).toBe(2);
    await expect.poll(async () => (await s.uploadFiles.list()).ids.sort()).toEqual(['new', 'used']);
  });

  test('expired sessions are deleted by a sweep, live ones stay', () => {
    const a = user('a@x.io');
    s.createSession({ id: 's1', userId: a.id, tokenHash: 'h1', createdAt: 1, expiresAt: 100 });
    s.createSession({ id: 's2', userId: a.id, tokenHash: 'h2', createdAt: 1, expiresAt: 300 });
    expect(s.deleteExpiredSessions(200)).toBe(1);
    expect(s.getSessionByTokenHash('h1')).toBeUndefined();
    expect(s.getSessionByTokenHash('h2')).toBeDefined();
  });
});
