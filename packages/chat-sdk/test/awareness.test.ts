import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { TYPING_TTL_MS } from '../src/protocol/index.js';
import type { ChatClient } from '../src/index.js';
import { client, email, eventually, server, until } from './helpers.js';

const GRACE_MS = 300;
let srv: RunningServer;
const clients: ChatClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await srv?.close();
});

/** A `ws` WebSocket that records the actions it sends and the events it receives. */
function wire() {
  const sent: Array<{ action: string; data: any }> = [];
  const received: string[] = [];
  class Counting extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      this.on('message', (data) => {
        const frame = JSON.parse(String(data));
        received.push(frame.type === 'event' ? frame.event : frame.type);
      });
    }
    override send(data: any, ...rest: any[]): void {
      const frame = JSON.parse(String(data));
      sent.push({ action: frame.action, data: frame.data });
      (super.send as (...args: any[]) => void)(data, ...rest);
    }
  }
  return { WebSocket: Counting, sent, received, typingFrames: () => sent.filter((f) => f.action === 'typing') };
}

async function person(name: string, w = wire()) {
  const c = client(srv, { storage: 'memory', WebSocket: w.WebSocket as never });
  clients.push(c);
  const user = await c.signUp({ email: email(name), name });
  await until(c.connection, (s) => s.status === 'open');
  return { client: c, user, wire: w };
}

async function pairInRoom() {
  const ada = await person('ada');
  const bob = await person('bob');
  const room = await ada.client.createRoom({ memberIds: [bob.user.id] });
  await until(bob.client.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  return { ada, bob, room };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('typing against the reference server', () => {
  it('A types: B holds A within a second, then drops A at the expiry with no frame at all', async () => {
    srv = await server();
    const { ada, bob, room } = await pairInRoom();
    const typing = bob.client.typing(room.id);
    ada.client.startTyping(room.id);
    await until(typing, (t) => t.userIds.includes(ada.user.id), 1000, 'ada typing at bob');
    expect(typing.getSnapshot()).toEqual({ userIds: [ada.user.id] });
    const framesThen = bob.wire.received.length;
    await until(typing, (t) => t.userIds.length === 0, TYPING_TTL_MS + 2000, 'the expiry');
    expect(bob.wire.received.length).toBe(framesThen);
    // The typist never sees themself.
    expect(ada.client.typing(room.id).getSnapshot().userIds).toEqual([]);
  }, 15_000);

  it('A sends: B’s typing clears the moment the message shows, and the next keystroke starts it again', async () => {
    srv = await server();
    const { ada, bob, room } = await pairInRoom();
    const typing = bob.client.typing(room.id);
    const messages = bob.client.messages(room.id);
    await until(messages, (s) => !s.loading);
    ada.client.startTyping(room.id);
    await until(typing, (t) => t.userIds.length === 1);
    let typingWhenShown: readonly string[] | undefined;
    const off = messages.subscribe(() => {
      if (messages.getSnapshot().messages.length > 0) typingWhenShown ??= typing.getSnapshot().userIds;
    });
    ada.client.send(room.id, { text: 'done typing' });
    await until(messages, (s) => s.messages.length === 1);
    off();
    expect(typingWhenShown).toEqual([]);
    ada.client.startTyping(room.id);
    await until(typing, (t) => t.userIds.length === 1, 1000, 'typing again after the message');
    expect(ada.wire.typingFrames()).toHaveLength(2);
  });

  it('a burst of keystrokes sends one frame; stopTyping ends it at once for B', async () => {
    srv = await server();
    const { ada, bob, room } = await pairInRoom();
    const typing = bob.client.typing(room.id);
    for (let i = 0; i < 30; i++) {
      ada.client.startTyping(room.id);
      await sleep(20);
    }
    await until(typing, (t) => t.userIds.length === 1);
    expect(ada.wire.typingFrames()).toEqual([{ action: 'typing', data: { roomId: room.id } }]);
    ada.client.stopTyping(room.id);
    await until(typing, (t) => t.userIds.length === 0, 1000, 'the stop');
    expect(ada.wire.typingFrames().at(-1)).toEqual({ action: 'typing', data: { roomId: room.id, stop: true } });
    ada.client.stopTyping(room.id); // not typing: nothing to send
    await sleep(50);
    expect(ada.wire.typingFrames()).toHaveLength(2);
  });

  it("another device of A's typing is not shown to A; a non-member hears nothing", async () => {
    srv = await server();
    const { ada, bob, room } = await pairInRoom();
    const cat = await person('cat');
    const phone = client(srv, { storage: 'memory' });
    clients.push(phone);
    await phone.login({ token: ada.client.session.getSnapshot()!.token });
    phone.startTyping(room.id);
    await until(bob.client.typing(room.id), (t) => t.userIds.length === 1);
    expect(ada.client.typing(room.id).getSnapshot().userIds).toEqual([]);
    cat.client.startTyping(room.id); // refused by the server; nothing shows anywhere
    await sleep(100);
    expect(cat.client.typing(room.id).getSnapshot().userIds).toEqual([]);
    expect(cat.wire.received).not.toContain('typing');
    expect(bob.client.typing(room.id).getSnapshot().userIds).toEqual([ada.user.id]);
  });
});

describe('presence against the reference server', () => {
  it('online, a reload (no offline in between), last connection closed (offline, last seen), back', async () => {
    srv = await server({ presenceGraceMs: GRACE_MS });
    const { ada, bob } = await pairInRoom();
    const store = bob.client.presence([ada.user.id, bob.user.id]);
    const seen: Array<boolean | undefined> = [];
    store.subscribe(() => seen.push(store.getSnapshot()[ada.user.id]?.online));
    await until(store, (p) => p[ada.user.id]?.online === true);
    expect(store.getSnapshot()[bob.user.id]?.online).toBe(true);

    // A reload: the page's client goes, a new one resumes the session at once.
    const token = ada.client.session.getSnapshot()!.token;
    await ada.client.close();
    const reloaded = client(srv, { storage: 'memory' });
    clients.push(reloaded);
    await reloaded.login({ token });
    await sleep(GRACE_MS * 2);
    expect(seen.filter((online) => online === false)).toEqual([]);

    // The last tab closes: offline, with when.
    const closedAt = Date.now();
    await reloaded.close();
    const offline = await until(store, (p) => p[ada.user.id]?.online === false, 3000, 'ada offline');
    expect(offline[ada.user.id]!.lastSeenAt).toBeGreaterThanOrEqual(closedAt - 50);

    const back = client(srv, { storage: 'memory' });
    clients.push(back);
    await back.login({ token });
    await until(store, (p) => p[ada.user.id]?.online === true, 3000, 'ada back');
  });

  it('after a server restart the store is asked again: who came back is online, who had gone keeps their last seen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sdk-presence-'));
    const db = join(dir, 'chat.sqlite');
    try {
      srv = await server({ presenceGraceMs: GRACE_MS, db });
      const { ada, bob } = await pairInRoom();
      const cat = await person('cat');
      await ada.client.createRoom({ memberIds: [cat.user.id] });
      const store = ada.client.presence([bob.user.id, cat.user.id]);
      store.subscribe(() => undefined);
      await until(store, (p) => p[bob.user.id]?.online === true && p[cat.user.id]?.online === true);
      await cat.client.close();
      const gone = await until(store, (p) => p[cat.user.id]?.online === false);
      const asked = ada.wire.sent.filter((f) => f.action === 'get_presence').length;
      const port = srv.port;
      await srv.close();
      srv = await server({ presenceGraceMs: GRACE_MS, db, port });
      await until(ada.client.connection, (s) => s.status === 'open', 5000, 'ada reconnected');
      await until(bob.client.connection, (s) => s.status === 'open', 5000, 'bob reconnected');
      const after = await until(store, (p) => p[bob.user.id]?.online === true, 5000, 'bob online again');
      expect(after[cat.user.id]).toEqual(gone[cat.user.id]);
      await eventually(() => expect(ada.wire.sent.filter((f) => f.action === 'get_presence').length).toBeGreaterThan(asked));
    } finally {
      await srv.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a non-member gets no presence: strangers are left out of the store', async () => {
    srv = await server({ presenceGraceMs: GRACE_MS });
    const { ada } = await pairInRoom();
    const cat = await person('cat');
    const store = cat.client.presence([ada.user.id]);
    store.subscribe(() => undefined);
    await sleep(200);
    expect(store.getSnapshot()).toEqual({});
    expect(cat.wire.sent.some((f) => f.action === 'get_presence')).toBe(true);
    expect(cat.wire.received).not.toContain('presence');
    // Once they share a room, the store learns of her at once.
    await ada.client.createRoom({ memberIds: [cat.user.id] });
    await until(store, (p) => p[ada.user.id]?.online === true, 3000, 'ada told once co-members');
  });

  it('one store per set of ids, compared by value; equal values keep the snapshot', async () => {
    srv = await server({ presenceGraceMs: GRACE_MS });
    const { ada, bob } = await pairInRoom();
    const a = bob.client.presence([ada.user.id, bob.user.id]);
    expect(bob.client.presence([bob.user.id, ada.user.id, ada.user.id])).toBe(a);
    a.subscribe(() => undefined);
    const first = await until(a, (p) => Object.keys(p).length === 2);
    await bob.client.reconnect(); // asks again after the connect: same values, same snapshot
    await sleep(200);
    expect(a.getSnapshot()).toBe(first);
    expect(bob.wire.sent.filter((f) => f.action === 'get_presence').length).toBeGreaterThanOrEqual(1);
  });
});
