import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import { client, email, server, until } from './helpers.js';

/** Membership and paged room lists (protocol 10.6) through the SDK, against the reference server. */

let srv: RunningServer | undefined;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await srv?.close();
  srv = undefined;
});

const open = (options: Parameters<typeof client>[1] = {}) => {
  const c = client(srv!, { storage: 'memory', ...options });
  clients.push(c);
  return c;
};

it('leaveRoom: the room leaves my list in every client of mine; the others keep it and see me gone', async () => {
  srv = await server();
  const ann = open();
  const bob = open();
  const bobElsewhere = open();
  const b = await bob.signUp({ email: email('bob') });
  await bobElsewhere.login({ email: b.email });
  await ann.signUp({ email: email('ann') });
  const room = await ann.createRoom({ memberIds: [b.id], name: 'lunch' });
  await until(bobElsewhere.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  ann.send(room.id, { text: 'before' });
  await until(bob.messages(room.id), (s) => s.messages.length === 1);

  await bob.leaveRoom(room.id);
  expect(bob.rooms.getSnapshot().map((r) => r.id)).not.toContain(room.id);
  await until(bobElsewhere.rooms, (rooms) => !rooms.some((r) => r.id === room.id), 5000, 'the other device to drop the room');
  await until(ann.rooms, (rooms) => rooms.find((r) => r.id === room.id)?.memberIds.length === 1, 5000, 'Ann to see Bob gone');
  expect(() => bob.send(room.id, { text: 'after' })).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  await expect(bob.leaveRoom(room.id)).rejects.toMatchObject({ code: 'FORBIDDEN' });
});

it("leaving drops the room's cached messages from this device", async () => {
  srv = await server();
  const { IDBFactory } = await import('./helpers.js');
  const indexedDB = new IDBFactory();
  const ann = open();
  const bob = open({ storage: 'indexeddb', indexedDB, transport: 'in-tab' });
  const b = await bob.signUp({ email: email('bob') });
  await ann.signUp({ email: email('ann') });
  const room = await ann.createRoom({ memberIds: [b.id] });
  await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  const store = bob.messages(room.id);
  await until(store, (s) => !s.loading);
  ann.send(room.id, { text: 'private' });
  await until(store, (s) => s.messages.length === 1);
  await bob.leaveRoom(room.id);
  await bob.close();

  const reloaded = open({ storage: 'indexeddb', indexedDB, transport: 'in-tab' }); // the same browser, later
  await reloaded.ready;
  expect(reloaded.session.getSnapshot()?.user.id).toBe(b.id);
  const after = await until(reloaded.messages(room.id), (s) => !s.loading);
  expect(after.messages).toEqual([]);
  expect(reloaded.rooms.getSnapshot().map((r) => r.id)).not.toContain(room.id);
});

it('addMembers: a member adds people; the newcomer gets the room, the others its new members', async () => {
  srv = await server();
  const ann = open();
  const bob = open();
  const cat = open();
  const b = await bob.signUp({ email: email('bob') });
  const c = await cat.signUp({ email: email('cat') });
  await ann.signUp({ email: email('ann') });
  const room = await ann.createRoom({ memberIds: [b.id] });
  await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  const added = await bob.addMembers(room.id, [c.id]);
  expect(added.memberIds).toContain(c.id);
  await until(cat.rooms, (rooms) => rooms.some((r) => r.id === room.id), 5000, 'Cat to get the room');
  await until(ann.rooms, (rooms) => rooms.find((r) => r.id === room.id)?.memberIds.includes(c.id) === true, 5000, 'Ann to see Cat');
  cat.send(room.id, { text: 'hi all' });
  await until(ann.messages(room.id), (s) => s.messages.some((m) => m.text === 'hi all'));
  await expect(bob.addMembers(room.id, [])).rejects.toMatchObject({ code: 'BAD_REQUEST' });
});

it('leaving with block: whoever added me cannot put me in rooms again', async () => {
  srv = await server();
  const mallory = open();
  const victim = open();
  const v = await victim.signUp({ email: email('victim') });
  await mallory.signUp({ email: email('mallory') });
  const spam = await mallory.createRoom({ memberIds: [v.id], name: 'spam' });
  await until(victim.rooms, (rooms) => rooms.length === 1);
  await victim.leaveRoom(spam.id, { block: true });
  await expect(mallory.createRoom({ memberIds: [v.id] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  expect(victim.rooms.getSnapshot()).toEqual([]);
});

it('a list of more rooms than one page arrives whole, a bounded page at a time', async () => {
  srv = await server({ rateLimit: { perSecond: 10_000, burst: 10_000 } });
  const ann = open();
  const bob = open();
  const b = await bob.signUp({ email: email('bob') });
  const a = await ann.signUp({ email: email('ann') });
  await bob.close();
  const made: string[] = [];
  for (let i = 0; i < 60; i++) made.push((await ann.createRoom({ memberIds: [b.id], name: `r${i}` })).id);
  const frames: number[] = [];
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data: Buffer) => void (data.includes('"rooms"') && frames.push(data.length)));
    }
  }
  const bob2 = open({ WebSocket: Counting as never });
  await bob2.login({ email: b.email }); // bob's own address (the directory hides others')
  const rooms = await until(bob2.rooms, (list) => list.length === 60, 10_000, 'all 60 rooms');
  expect(new Set(rooms.map((r) => r.id))).toEqual(new Set(made));
  expect(frames.length).toBeGreaterThanOrEqual(3); // 25 + 25 + 10
  expect(a.id).toBeTruthy();
});

it('a createRoom command resent to another host (as after a crash) makes one room', async () => {
  const { ChatHost } = await import('../src/host/chat-host.js');
  const { MemoryStorage } = await import('../src/storage/memory-storage.js');
  srv = await server();
  const bob = open();
  const b = await bob.signUp({ email: email('bob') });
  const annEmail = email('ann');
  const ann = open();
  await ann.signUp({ email: annEmail });
  const hosts = [0, 1].map(() => new ChatHost({ url: srv!.wsUrl, WebSocket: WebSocket as never, fetch: fetch as never, storage: new MemoryStorage() }));
  try {
    for (const host of hosts) await host.handle({ type: 'login', credentials: { email: annEmail } });
    const command = { type: 'createRoom' as const, memberIds: [b.id], name: 'once', clientId: 'create-once' };
    const first = await hosts[0]!.handle(command);
    const again = await hosts[1]!.handle(command); // the same command, resent to another host
    expect(again.id).toBe(first.id);
    await until(bob.rooms, (rooms) => rooms.some((r) => r.id === first.id));
    expect(bob.rooms.getSnapshot().filter((r) => r.name === 'once')).toHaveLength(1);
  } finally {
    await Promise.all(hosts.map((h) => h.close()));
  }
});
