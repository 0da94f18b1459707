import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import type { ChatMessage } from '../src/contract/chat-message.js';
import { IDBFactory, client, email, eventually, server, until } from './helpers.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'chat-sdk-test-'));
  dirs.push(dir);
  return join(dir, 'chat.sqlite');
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const sentTexts = (messages: readonly ChatMessage[]) => messages.map((m) => m.text);

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Signs up `n` users on their own clients (the first with `firstOptions`) and puts them all in one room. */
async function roomOf(srv: RunningServer, n: number, firstOptions: Parameters<typeof client>[1] = {}) {
  const members = [];
  for (let i = 0; i < n; i++) {
    const c = open(srv, i === 0 ? firstOptions : { backoff: firstOptions.backoff ?? ((a: number) => 20 * a) });
    const user = await c.signUp({ email: email(`m${i}`) });
    members.push({ client: c, user });
  }
  const room = await members[0]!.client.createRoom({ memberIds: members.slice(1).map((m) => m.user.id) });
  for (const m of members) await until(m.client.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  return { members, room };
}

describe('delivery', () => {
  it('3 clients send 200 messages while the server drops every connection several times: all hold the same 200, once, in seq order', async () => {
    const srv = await start();
    const { members, room } = await roomOf(srv, 3);
    const stores = members.map((m) => m.client.messages(room.id));
    for (const store of stores) await until(store, (s) => !s.loading);

    for (let i = 0; i < 200; i++) {
      members[i % 3]!.client.send(room.id, { text: `m${i}` });
      if (i % 40 === 39) {
        await sleep(30);
        srv.faults.dropAll();
      }
    }
    for (const store of stores) {
      await until(store, (s) => s.messages.length === 200 && s.messages.every((m) => m.status === 'sent'), 30_000, '200 sent');
    }
    const first = stores[0]!.getSnapshot().messages;
    expect(first.map((m) => m.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(new Set(first.map((m) => m.clientId)).size).toBe(200);
    expect(new Set(sentTexts(first))).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `m${i}`)));
    for (const store of stores.slice(1)) {
      expect(store.getSnapshot().messages.map((m) => [m.seq, m.clientId, m.text])).toEqual(first.map((m) => [m.seq, m.clientId, m.text]));
    }
    // Each sender's own messages kept the order they were sent in.
    for (let k = 0; k < 3; k++) {
      const own = first.filter((m) => m.senderId === members[k]!.user.id).map((m) => Number(m.text.slice(1)));
      expect(own).toEqual([...own].sort((a, b) => a - b));
    }
  }, 60_000);

  it('a closed client leaves pending messages; a new client on the same IndexedDB sends each exactly once', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const { members, room } = await roomOf(srv, 2, { indexedDB: idb });
    const alice = members[0]!.client;
    await until(alice.messages(room.id), (s) => !s.loading);

    // Two are sent but their replies never come (the server stalls), three more never leave.
    srv.faults.stall(60_000);
    alice.send(room.id, { text: 'one' });
    alice.send(room.id, { text: 'two' });
    await sleep(50);
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    alice.send(room.id, { text: 'three' });
    alice.send(room.id, { text: 'four' });
    alice.send(room.id, { text: 'five' });
    // Closed at once: close() still writes what was just sent to the outbox first.
    await alice.close();

    srv = await start({ db, port: srv.port });
    const again = open(srv, { indexedDB: idb });
    await again.ready;
    expect(again.session.getSnapshot()?.user.id).toBe(members[0]!.user.id);
    const store = again.messages(room.id);
    const done = await until(store, (s) => s.messages.length === 5 && s.messages.every((m) => m.status === 'sent'), 15_000);
    expect(sentTexts(done.messages)).toEqual(['one', 'two', 'three', 'four', 'five']);
    expect(done.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);

    // The other member, fresh from the server, sees each message once.
    const bob = members[1]!.client;
    const bobView = await until(bob.messages(room.id), (s) => s.messages.length >= 5, 15_000);
    expect(sentTexts(bobView.messages)).toEqual(['one', 'two', 'three', 'four', 'five']);
  }, 60_000);

  it('a permanent failure fails that message only; the room and other rooms go on; retry and discard', async () => {
    const srv = await start();
    const { members, room } = await roomOf(srv, 2);
    const alice = members[0]!.client;
    const other = await alice.createRoom({ memberIds: [members[1]!.user.id], name: 'other' });
    await until(alice.rooms, (rooms) => rooms.length === 2);
    const store = alice.messages(room.id);
    const otherStore = alice.messages(other.id);
    await until(store, (s) => !s.loading);

    // Typed as PNG but not a PNG: the server refuses the upload (415), which is final.
    const fake = new Blob([new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])], { type: 'image/png' });
    const failed: ChatMessage[] = [];
    alice.on('failed', (m) => failed.push(m));
    alice.send(room.id, { text: 'before' });
    const bad = alice.send(room.id, { text: 'bad image', image: fake });
    alice.send(room.id, { text: 'after' });
    alice.send(other.id, { text: 'elsewhere' });

    const snapshot = await until(store, (s) => s.messages.filter((m) => m.status === 'sent').length === 2 && s.messages.some((m) => m.status === 'failed'));
    expect(snapshot.messages.map((m) => [m.text, m.status])).toEqual([
      ['before', 'sent'],
      ['after', 'sent'],
      ['bad image', 'failed'],
    ]);
    expect(snapshot.messages[2]!.error?.code).toBe('BAD_REQUEST');
    expect(snapshot.messages[2]!.clientId).toBe(bad.clientId);
    expect(failed.map((m) => m.clientId)).toEqual([bad.clientId]);
    await until(otherStore, (s) => s.messages[0]?.status === 'sent');

    // Retry: pending again, then failed again (the bytes are still wrong).
    await alice.retry(bad.clientId);
    await until(store, (s) => s.messages.find((m) => m.clientId === bad.clientId)?.status === 'pending', 2000).catch(() => undefined);
    await until(store, (s) => s.messages.find((m) => m.clientId === bad.clientId)?.status === 'failed');
    expect(failed.length).toBe(2);

    await alice.discard(bad.clientId);
    const after = await until(store, (s) => s.messages.length === 2);
    expect(sentTexts(after.messages)).toEqual(['before', 'after']);
  });

  it('retryable server errors are retried with backoff until the message is stored once', async () => {
    const srv = await start();
    const { members, room } = await roomOf(srv, 2);
    const alice = members[0]!.client;
    const store = alice.messages(room.id);
    await until(store, (s) => !s.loading);
    srv.faults.failNextWrites(3);
    alice.send(room.id, { text: 'persistent' });
    const done = await until(store, (s) => s.messages[0]?.status === 'sent');
    expect(done.messages).toHaveLength(1);
    expect(done.messages[0]!.seq).toBe(1);
  });

  it('catches up after a server restart on SQLite', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const { members, room } = await roomOf(srv, 2, { backoff: () => 400 });
    const [alice, bob] = [members[0]!.client, members[1]!.client];
    const bobStore = bob.messages(room.id);
    await until(bobStore, (s) => !s.loading);
    alice.send(room.id, { text: 'before restart' });
    await until(bobStore, (s) => s.messages.length === 1);

    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    srv = await start({ db, port: srv.port });
    // Someone else posts while Bob is still waiting to reconnect.
    const carol = open(srv);
    await carol.login({ email: members[0]!.user.email });
    await until(carol.rooms, (rooms) => rooms.some((r) => r.id === room.id));
    for (const text of ['while', 'bob', 'was', 'away']) carol.send(room.id, { text });
    const caught = await until(bobStore, (s) => s.messages.length === 5, 15_000);
    expect(caught.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(sentTexts(caught.messages)).toEqual(['before restart', 'while', 'bob', 'was', 'away']);
  }, 30_000);

  it('drafts round-trip text and an image Blob, and sending clears them', async () => {
    const srv = await start();
    const idb = new IDBFactory();
    const { members, room } = await roomOf(srv, 2, { indexedDB: idb, draftDebounceMs: 10 });
    const alice = members[0]!.client;
    const image = new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });
    alice.drafts.set(room.id, { text: 'half a thought', image });
    await eventually(async () => {
      const draft = await alice.drafts.get(room.id);
      expect(draft?.text).toBe('half a thought');
      expect(new Uint8Array(await draft!.image!.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
    });
    alice.close();
    const again = open(srv, { indexedDB: idb, draftDebounceMs: 10 });
    await again.ready;
    const restored = await again.drafts.get(room.id);
    expect(restored?.text).toBe('half a thought');
    expect(restored?.image?.type).toBe('image/png');
    again.send(room.id, { text: 'the full thought' });
    await eventually(async () => expect(await again.drafts.get(room.id)).toBeNull());
  });

  it('a client reloaded with the server down shows cached rooms and messages and queues a send that goes out when it is back', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const { members, room } = await roomOf(srv, 2, { indexedDB: idb, backoff: () => 50 });
    const alice = members[0]!.client;
    const store = alice.messages(room.id);
    await until(store, (s) => !s.loading);
    alice.send(room.id, { text: 'cached one' });
    await until(store, (s) => s.messages[0]?.status === 'sent');
    await alice.close(); // waits for the cache write that follows the acknowledgement
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);

    const offline = open(srv, { indexedDB: idb, backoff: () => 50 });
    await offline.ready;
    expect(offline.session.getSnapshot()?.user.id).toBe(members[0]!.user.id);
    expect(offline.rooms.getSnapshot().map((r) => r.id)).toContain(room.id);
    const offlineStore = offline.messages(room.id);
    await until(offlineStore, (s) => s.messages.length === 1);
    expect(offline.connection.getSnapshot().status).not.toBe('open');
    const queued = offline.send(room.id, { text: 'written offline' });
    expect(offlineStore.getSnapshot().messages.map((m) => m.status)).toEqual(['sent', 'pending']);

    srv = await start({ db, port: srv.port });
    const done = await until(offlineStore, (s) => s.messages.length === 2 && s.messages.every((m) => m.status === 'sent'), 15_000);
    expect(done.messages[1]).toMatchObject({ clientId: queued.clientId, seq: 2, text: 'written offline' });
  }, 30_000);
});
