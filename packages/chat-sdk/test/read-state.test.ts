import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient, Room } from '../src/index.js';
import { IDBFactory, client, email, server, until } from './helpers.js';

const servers: RunningServer[] = [];
const clients: ChatClient[] = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof server>[0] = {}) {
  const srv = await server(options);
  servers.push(srv);
  return srv;
}
function open(...args: Parameters<typeof client>) {
  const c = client(...args);
  clients.push(c);
  return c;
}
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-read-test-'));
  dirs.push(dir);
  return join(dir, 'chat.sqlite');
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const roomIn = (c: ChatClient, roomId: string): Room | undefined => c.rooms.getSnapshot().find((r) => r.id === roomId);
const unread = (c: ChatClient, roomId: string, n: number) =>
  until(c.rooms, (rooms) => rooms.find((r) => r.id === roomId)?.unreadCount === n, 10_000, `unread ${n}`);

/** Ann and Bob, each on their own client (Bob's options given), in one room. */
async function pair(srv: RunningServer, bobOptions: Parameters<typeof client>[1] = {}) {
  const ann = open(srv);
  const annEmail = email('ann');
  const annUser = await ann.signUp({ email: annEmail });
  const bobEmail = email('bob');
  const bob = open(srv, bobOptions);
  const bobUser = await bob.signUp({ email: bobEmail });
  const room = await ann.createRoom({ memberIds: [bobUser.id] });
  await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  return { ann, annUser, annEmail, bob, bobUser, bobEmail, room };
}

async function sendAll(c: ChatClient, roomId: string, texts: string[]) {
  for (const text of texts) c.send(roomId, { text });
  await until(c.messages(roomId), (s) => s.messages.filter((m) => m.status === 'sent').length >= texts.length, 10_000, 'sent');
}

describe('read state against the reference server', () => {
  it('B marks read: B\'s unread count drops to 0 at once and A\'s receipts show B\'s seq; own messages never count', async () => {
    const srv = await start();
    const { ann, annUser, bob, bobUser, room } = await pair(srv);
    await sendAll(ann, room.id, ['one', 'two', 'three']);
    await unread(bob, room.id, 3);
    expect(roomIn(ann, room.id)?.unreadCount ?? 0).toBe(0);
    await sendAll(bob, room.id, ['mine']);
    await until(bob.rooms, (rooms) => rooms.find((r) => r.id === room.id)?.lastSeq === 4);
    expect(roomIn(bob, room.id)?.unreadCount).toBe(3);

    const receipts = ann.receipts(room.id);
    expect(receipts.getSnapshot()).toEqual({});
    await bob.markRead(room.id);
    // Resolved once stored: the count is already 0 in this tab, before the server answered.
    expect(roomIn(bob, room.id)?.unreadCount).toBe(0);
    expect(bob.receipts(room.id).getSnapshot()[bobUser.id]).toBe(4);
    const seen = await until(receipts, (r) => r[bobUser.id] === 4);
    expect(seen).toEqual({ [bobUser.id]: 4 });
    // Idempotent: the same or a lower seq changes nothing and sends nothing that moves a cursor.
    await bob.markRead(room.id, 2);
    await bob.markRead(room.id);
    expect(receipts.getSnapshot()).toBe(seen);
    // Ann's one unread message (Bob's) is read by Ann.
    expect(roomIn(ann, room.id)?.unreadCount).toBe(1);
    await ann.markRead(room.id, 4);
    await until(bob.receipts(room.id), (r) => r[annUser.id] === 4);
  });

  it('after a reconnect and after a server restart (SQLite) the counts and cursors are the server\'s', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const { ann, bob, bobUser, room } = await pair(srv, { indexedDB: idb });
    await sendAll(ann, room.id, ['1', '2', '3', '4']);
    await unread(bob, room.id, 4);
    await bob.markRead(room.id, 3);
    await until(ann.receipts(room.id), (r) => r[bobUser.id] === 3);
    await unread(bob, room.id, 1);

    // Every connection dropped: Ann sends while Bob reconnects.
    srv.faults.dropAll();
    await sendAll(ann, room.id, ['5', '6']);
    await unread(bob, room.id, 3);

    // A restart on the same file: Bob reloads (a new client on his IndexedDB).
    await bob.close();
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    srv = await start({ db, port: srv.port });
    const again = open(srv, { indexedDB: idb });
    await again.ready;
    await until(again.connection, (c) => c.status === 'open');
    const back = await until(again.rooms, (rooms) => rooms.some((r) => r.id === room.id && r.lastSeq === 6));
    expect(back.find((r) => r.id === room.id)).toMatchObject({ unreadCount: 3, readSeqs: { [bobUser.id]: 3 } });
  }, 30_000);

  it('marked offline: stored at once, sent after a reload once the server is back, and only then seen by others', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const { ann, annEmail, bob, bobUser, room } = await pair(srv, { indexedDB: idb });
    await sendAll(ann, room.id, ['1', '2']);
    await unread(bob, room.id, 2);
    await ann.close();
    clients.splice(clients.indexOf(ann), 1);

    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    await until(bob.connection, (c) => c.status === 'reconnecting');
    await bob.markRead(room.id);
    expect(roomIn(bob, room.id)).toMatchObject({ unreadCount: 0, readSeqs: { [bobUser.id]: 2 } });
    await bob.close(); // a reload while offline

    srv = await start({ db, port: srv.port });
    const reloaded = open(srv, { indexedDB: idb });
    await reloaded.ready;
    // The pending cursor shows from the first snapshot on, before the server has it.
    expect(roomIn(reloaded, room.id)).toMatchObject({ unreadCount: 0 });
    const annAgain = open(srv);
    await annAgain.login({ email: annEmail });
    await until(annAgain.receipts(room.id), (r) => r[bobUser.id] === 2);
    await until(reloaded.rooms, (rooms) => rooms.some((r) => r.id === room.id && r.unreadCount === 0 && r.readSeqs?.[bobUser.id] === 2));
  }, 30_000);

  it('read on another device: the unread count drops here too', async () => {
    const srv = await start();
    const { ann, bob, bobEmail, room } = await pair(srv);
    await sendAll(ann, room.id, ['1', '2', '3']);
    await unread(bob, room.id, 3);
    const phone = open(srv);
    await phone.login({ email: bobEmail });
    await unread(phone, room.id, 3);
    await phone.markRead(room.id, 2);
    await unread(bob, room.id, 1);
    await phone.markRead(room.id);
    await unread(bob, room.id, 0);
  });

  it('bad input and rooms one is not in are refused', async () => {
    const srv = await start();
    const { ann, room } = await pair(srv);
    const carol = open(srv);
    await carol.signUp({ email: email('carol') });
    await expect(carol.markRead(room.id)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(ann.markRead('')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ann.markRead(room.id, -1)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(ann.markRead(room.id, 1.5)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    expect(carol.receipts(room.id).getSnapshot()).toEqual({});
    const signedOut = open(srv);
    await signedOut.ready;
    await expect(signedOut.markRead(room.id)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
