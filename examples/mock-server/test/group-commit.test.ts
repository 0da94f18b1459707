import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { ChatError } from '@chat/sdk/protocol';
import { startServer, TEST_SERVER_OPTIONS } from '../src/index.js';
import { GroupCommit, SqliteStorage, type NewMessage, withGroupCommit } from '../src/storage/index.js';
import { TestClient, createRoom, serverFixture, signUp, type SignedIn } from './helpers.js';

/**
 * Group commit on SQLite (storage/group-commit.ts): the new messages handed over in one turn
 * of the event loop go in one transaction, and each is answered once that transaction is in
 * the WAL. What must hold whatever the batching: every message acknowledged is stored once,
 * with a gapless seq; a repeat is a duplicate inside a batch and across batches; a message
 * that fails fails alone; nothing acknowledged is lost when a socket or the server goes away.
 */

const dir = mkdtempSync(join(tmpdir(), 'chat-group-commit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
const dbFile = () => join(dir, `chat-${++files}.sqlite`);

describe('one batch, in process', () => {
  let storage: SqliteStorage;
  afterEach(() => storage.close());

  function roomWith(members: string[]): string {
    members.forEach((id, i) => storage.createUser({ id, email: `${id}@example.com`, name: id, createdAt: i }));
    return storage.createRoom({ id: 'r1', name: null, memberIds: members, createdBy: members[0]!, createdAt: 0 }).id;
  }
  const message = (senderId: string, clientId: string, n: number): NewMessage => ({
    id: `m-${senderId}-${clientId}-${n}`, roomId: 'r1', senderId, clientId, text: `text ${n}`, image: null, createdAt: n,
  });

  test('messages handed over in one turn commit together: seqs follow each other, a repeat inside the batch is a duplicate, a failing one fails alone', async () => {
    storage = new SqliteStorage(dbFile());
    const roomId = roomWith(['u1', 'u2', 'u3', 'u4']);
    const commits = new GroupCommit(storage);
    const failing = () => {
      throw new ChatError('INTERNAL', 'injected');
    };
    // All in the same turn: one batch.
    const results = await Promise.allSettled([
      commits.createMessage(message('u1', 'a', 1)),
      commits.createMessage(message('u2', 'b', 2), { beforeCommit: failing }),
      commits.createMessage(message('u3', 'c', 3)),
      commits.createMessage(message('u1', 'a', 4)), // u1's 'a' again, from another tab
      commits.createMessage(message('u4', 'd', 5)),
    ]);
    expect(commits.stats).toEqual({ batches: 1, messages: 5, lookupReads: 0 });
    const [first, failed, third, repeat, fifth] = results;
    expect(failed).toMatchObject({ status: 'rejected', reason: { code: 'INTERNAL' } });
    const value = (r: PromiseSettledResult<{ message: { id: string; seq: number }; duplicate: boolean }> | undefined) =>
      r?.status === 'fulfilled' ? r.value : expect.unreachable(`rejected: ${String((r as PromiseRejectedResult).reason)}`);
    expect([value(first).message.seq, value(third).message.seq, value(fifth).message.seq]).toEqual([1, 2, 3]);
    expect(value(repeat)).toEqual({ message: value(first).message, duplicate: true });
    // Committed: what a reply announced is in the file, the failed message is not.
    const stored = storage.getMessages(roomId, { limit: 10 }).messages;
    expect(stored.map((m) => [m.senderId, m.clientId, m.seq])).toEqual([['u1', 'a', 1], ['u3', 'c', 2], ['u4', 'd', 3]]);
    expect(storage.getMessageByClientId('u2', 'b')).toBeUndefined();
    expect(storage.getRoom(roomId)?.lastSeq).toBe(3);

    // Across batches: the repeat finds the stored one; the failed one, sent again, goes in.
    const [again, retried] = await Promise.all([commits.createMessage(message('u3', 'c', 6)), commits.createMessage(message('u2', 'b', 7))]);
    expect(again).toEqual({ message: value(third).message, duplicate: true });
    expect(retried).toMatchObject({ message: { seq: 4, clientId: 'b' }, duplicate: false });
    expect(commits.stats.batches).toBe(2);
  });

  test('duplicate checks asked in one turn are answered together, before that turn\'s batch is written', async () => {
    storage = new SqliteStorage(dbFile());
    roomWith(['u1', 'u2']);
    const commits = new GroupCommit(storage);
    const first = await commits.createMessage(message('u1', 'a', 1));
    const [stored, unknown, sameTurn, written] = await Promise.all([
      commits.getMessageByClientId('u1', 'a'),
      commits.getMessageByClientId('u2', 'nope'),
      commits.getMessageByClientId('u2', 'b'), // asked before its write, in the same turn
      commits.createMessage(message('u2', 'b', 2)),
    ]);
    expect(stored).toEqual(first.message);
    expect(unknown).toBeUndefined();
    expect(sameTurn).toBeUndefined();
    expect(written).toMatchObject({ duplicate: false, message: { seq: 2 } });
    expect(await commits.getMessageByClientId('u2', 'b')).toEqual(written.message);
    expect(commits.stats.lookupReads).toBe(2);
  });

  test('a batch still waiting when the store closes is written first', async () => {
    const file = dbFile();
    storage = new SqliteStorage(file);
    roomWith(['u1']);
    const store = withGroupCommit(storage); // what the server opens
    const pending = store.createMessage(message('u1', 'late', 1));
    await store.close(); // in the same turn: the batch has not been written yet
    await expect(pending).resolves.toMatchObject({ duplicate: false, message: { seq: 1 } });
    storage = new SqliteStorage(file);
    expect(storage.getMessageByClientId('u1', 'late')?.seq).toBe(1);
  });
});

describe('the server on a SQLite file', () => {
  const fixture = serverFixture();
  afterEach(() => fixture.cleanup());

  async function room(server: Awaited<ReturnType<typeof fixture.start>>, members: number): Promise<{ people: SignedIn[]; roomId: string }> {
    const people: SignedIn[] = [];
    for (let i = 0; i < members; i++) people.push(fixture.track(await signUp(server, `p${i}`)));
    const { id } = await createRoom(people[0]!.client, people.slice(1).map((p) => p.user.id));
    return { people, roomId: id };
  }

  test('concurrent sends from many connections into one room: all acknowledged, seq gapless, each stored once, each event to every member', async () => {
    const server = await fixture.start({ db: dbFile() });
    const { people, roomId } = await room(server, 12);
    const rounds = 5;
    const replies = [];
    for (let round = 0; round < rounds; round++) {
      // Every member sends at once (and once more with the same clientId: a retry racing the first).
      const sent = people.flatMap((p, i) => {
        const data = { roomId, clientId: `r${round}-p${i}`, text: `round ${round} from ${i}` };
        return [p.client.request('create_message', data), p.client.request('create_message', data)];
      });
      replies.push(...(await Promise.all(sent)));
    }
    expect(replies.every((r) => r.ok)).toBe(true);
    const firsts = replies.filter((r) => !r.data.duplicate).map((r) => r.data.message);
    const repeats = replies.filter((r) => r.data.duplicate).map((r) => r.data.message);
    expect(firsts).toHaveLength(rounds * people.length);
    expect(firsts.map((m) => m.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: firsts.length }, (_, i) => i + 1));
    expect(new Set(repeats.map((m) => m.id))).toEqual(new Set(firsts.map((m) => m.id)));
    const history = await people[3]!.client.call('get_messages', { roomId, limit: 100 });
    expect(history.messages.map((m: { id: string }) => m.id).sort()).toEqual(firsts.map((m) => m.id).sort());
    // One event per message at every member, none for a duplicate.
    for (const p of people) {
      await expect.poll(() => p.client.eventsNamed('message_created').length).toBe(firsts.length);
    }
  });

  test('a message whose write fails inside a batch is refused alone; the others of the batch are stored', async () => {
    const server = await fixture.start({ db: dbFile() });
    const { people, roomId } = await room(server, 6);
    server.faults.failNextWrites(1);
    const replies = await Promise.all(people.map((p, i) => p.client.request('create_message', { roomId, clientId: `x${i}`, text: `from ${i}` })));
    const refused = replies.filter((r) => !r.ok);
    expect(refused.map((r) => r.error?.code)).toEqual(['INTERNAL']);
    const stored = replies.filter((r) => r.ok).map((r) => r.data.message.seq).sort();
    expect(stored).toEqual([1, 2, 3, 4, 5]);
    // Nothing of the refused one was written: sent again, it is new and takes the next seq.
    const who = replies.indexOf(refused[0]!);
    const again = await people[who]!.client.call('create_message', { roomId, clientId: `x${who}`, text: `from ${who}` });
    expect(again).toMatchObject({ duplicate: false, message: { seq: 6 } });
  });

  test('a socket gone before its reply: the message was committed, and the retry on a new connection is a duplicate of it', async () => {
    const server = await fixture.start({ db: dbFile() });
    const { people, roomId } = await room(server, 2);
    const [ann, ben] = people as [SignedIn, SignedIn];
    const seen = ben.client.waitForEvent('message_created');
    ann.client.send('create_message', { roomId, clientId: 'gone', text: 'sent, then the tab closed' });
    ann.client.ws.terminate(); // before any reply can arrive
    const event = await seen;
    const back = fixture.track(await TestClient.open(server.wsUrl));
    await back.call('create_connection', { protocolVersion: 1, token: ann.token });
    const retry = await back.call('create_message', { roomId, clientId: 'gone', text: 'sent, then the tab closed' });
    expect(retry).toEqual({ message: event.data.message, duplicate: true });
  });

  test('a server closing with a batch in hand writes it before the file closes; after the restart the retry is a duplicate', async () => {
    const db = dbFile();
    const first = await startServer({ ...TEST_SERVER_OPTIONS, db });
    const ann = await signUp(first, 'ann');
    const ben = await signUp(first, 'ben');
    const { id: roomId } = await createRoom(ann.client, [ben.user.id]);
    ann.client.send('create_message', { roomId, clientId: 'at-close', text: 'in flight at the close' });
    await first.close();
    const second = await fixture.start({ db, port: first.port });
    const back = fixture.track(await TestClient.open(second.wsUrl));
    await back.call('create_connection', { protocolVersion: 1, token: ann.token });
    const history = await back.call('get_messages', { roomId });
    const retry = await back.call('create_message', { roomId, clientId: 'at-close', text: 'in flight at the close' });
    // Either it made it in before the close (stored once, the retry a duplicate) or it was
    // never read (nothing stored, the retry is new): never half, never twice.
    if (history.messages.length === 1) expect(retry).toEqual({ message: history.messages[0], duplicate: true });
    else expect(retry).toMatchObject({ duplicate: false, message: { seq: 1 } });
    expect((await back.call('get_messages', { roomId })).messages).toHaveLength(1);
  });
});
