import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import type { ChatError, Message, Room } from '../src/index.js';
import { Connection } from '../src/host/connection.js';
import type { ConnectionState } from '../src/contract/host-api.js';
import { IDBFactory, client, eventually, until } from './helpers.js';

/**
 * Servers that misbehave in ways the reference server never will (closing right after a
 * sign-in, paging without progress, repeating a seq, a burst of 6,000 rooms): each is a
 * real `ws` server on a loopback port speaking just enough of the protocol.
 */

type Frame = { action: string; requestId: string; data: Record<string, unknown> };
type Socket = WebSocket & { sendReply(frame: Frame, data: unknown): void; sendEvent(event: string, data: unknown): void };
const user = { id: 'u1', email: 'a@b.co', name: 'a', createdAt: 1 };

const servers: WebSocketServer[] = [];
const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
  for (const wss of servers.splice(0)) {
    for (const socket of wss.clients) socket.terminate();
    await new Promise((resolve) => wss.close(resolve));
  }
});

/** A `ws` server on a random port; `handle` answers each request (return true if it did). */
async function fakeServer(handle: (socket: Socket, frame: Frame) => boolean | void, onSignedIn?: (socket: Socket) => void) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  servers.push(wss);
  await new Promise((resolve) => wss.once('listening', resolve));
  const counts = { connections: 0, requests: new Map<string, number>() };
  wss.on('connection', (ws) => {
    counts.connections++;
    const socket = Object.assign(ws, {
      sendReply: (frame: Frame, data: unknown) => ws.send(JSON.stringify({ type: 'reply', requestId: frame.requestId, ok: true, data })),
      sendEvent: (event: string, data: unknown) => ws.send(JSON.stringify({ type: 'event', event, data })),
    }) as Socket;
    ws.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      counts.requests.set(frame.action, (counts.requests.get(frame.action) ?? 0) + 1);
      if (handle(socket, frame)) return;
      switch (frame.action) {
        case 'create_connection':
          socket.sendReply(frame, { user, token: 'tok', protocolVersion: 1.1, serverTime: 1 });
          onSignedIn?.(socket);
          return;
        case 'get_user_rooms':
          socket.sendReply(frame, { rooms: [], nextCursor: null });
          return;
        case 'ping':
          socket.sendReply(frame, { serverTime: 2 });
          return;
      }
    });
  });
  const { port } = wss.address() as AddressInfo;
  return { url: `ws://127.0.0.1:${port}/ws`, counts };
}

const room = (id: string, lastSeq = 0): Room => ({ id, name: id, memberIds: [user.id, 'u2'], createdBy: 'u2', createdAt: 1, lastSeq, lastMessage: null });
const message = (roomId: string, seq: number, id = `m${seq}`): Message => ({
  id, roomId, senderId: 'u2', clientId: `c-${id}`, seq, text: `#${seq}`, image: null, createdAt: 10 + seq,
});

function connection(url: string, backoff: (attempt: number) => number, healthyAfterMs: number) {
  const states: ConnectionState[] = [];
  const c = new Connection({
    url, WebSocket: WebSocket as never, backoff, requestTimeoutMs: 2000, pingIntervalMs: 60_000, healthyAfterMs, now: Date.now,
    getToken: () => 'tok', onAuthenticated: () => {}, onEvent: () => {}, onSessionEnded: () => {}, onFault: () => {},
    onState: (state) => states.push(state),
  });
  closers.push(() => c.dispose());
  return { c, states };
}

describe('the backoff when a server refuses after the socket opened', () => {
  for (const code of [1013, 1008, 4000]) {
    it(`grows while every connection is closed with ${code} right after the sign-in`, async () => {
      const { url, counts } = await fakeServer(() => {}, (socket) => socket.close(code, 'go away'));
      const attempts: number[] = [];
      const { c } = connection(url, (attempt) => (attempts.push(attempt), 5), 60_000);
      c.start();
      await eventually(() => expect(attempts.length).toBeGreaterThanOrEqual(5));
      expect(attempts.slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
      expect(counts.connections).toBeGreaterThanOrEqual(5);
    });
  }

  it('starts over once a connection stayed open for the healthy period', async () => {
    let sockets: Socket[] = [];
    const { url } = await fakeServer(() => {}, (socket) => void sockets.push(socket));
    const attempts: number[] = [];
    const { c, states } = connection(url, (attempt) => (attempts.push(attempt), 5), 30);
    c.start();
    await eventually(() => expect(sockets).toHaveLength(1));
    sockets[0]!.close(1013); // closed before it was healthy: the count goes on
    await eventually(() => expect(sockets).toHaveLength(2));
    await eventually(() => expect(states.at(-1)?.status).toBe('open'));
    sockets[1]!.close(1013);
    await eventually(() => expect(sockets).toHaveLength(3));
    await eventually(() => expect(states.at(-1)?.status).toBe('open'));
    await new Promise((resolve) => setTimeout(resolve, 150)); // well past the healthy period
    sockets[2]!.close(1001);
    await eventually(() => expect(attempts).toHaveLength(3));
    expect(attempts[0]).toBe(1);
    expect(attempts[2]).toBe(1);
    sockets = [];
  });
});

describe('catch-up and delivery against a server that does not keep its word', () => {
  it('stops and reports an error when a page says hasMore but makes no progress', async () => {
    let live: Socket | undefined;
    const { url, counts } = await fakeServer((socket, frame) => {
      if (frame.action === 'get_user_rooms') return socket.sendReply(frame, { rooms: [room('r1', 2)], nextCursor: null }), true;
      if (frame.action !== 'get_messages') return false;
      if (frame.data.after === undefined) socket.sendReply(frame, { messages: [message('r1', 1), message('r1', 2)], hasMore: false });
      else socket.sendReply(frame, { messages: [message('r1', 2)], hasMore: true }); // never moves past 2
      return true;
    }, (socket) => void (live = socket));
    const c = client({ wsUrl: url }, { storage: 'memory' });
    closers.push(() => c.close());
    const errors: ChatError[] = [];
    c.on('error', (error) => errors.push(error));
    await c.login({ email: 'a@b.co' });
    const store = c.messages('r1');
    await until(store, (s) => s.messages.length === 2);
    live!.sendEvent('message_created', { message: message('r1', 5) }); // a gap: 3 and 4 are fetched
    await eventually(() => expect(errors.map((e) => e.code)).toContain('INTERNAL'));
    const asked = counts.requests.get('get_messages')!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counts.requests.get('get_messages')).toBe(asked);
    expect(asked).toBeLessThanOrEqual(3);
  });

  it("a tab catching up a cached room stops with an error when a page makes no progress", async () => {
    let noProgress = false;
    const { url, counts } = await fakeServer((socket, frame) => {
      if (frame.action === 'get_user_rooms') return socket.sendReply(frame, { rooms: [room('r1', 2)], nextCursor: null }), true;
      if (frame.action !== 'get_messages') return false;
      if (!noProgress || frame.data.after === undefined) socket.sendReply(frame, { messages: [message('r1', 1), message('r1', 2)], hasMore: false });
      else socket.sendReply(frame, { messages: [message('r1', 2)], hasMore: true }); // never past 2
      return true;
    });
    const indexedDB = new IDBFactory();
    const first = client({ wsUrl: url }, { indexedDB, transport: 'in-tab' });
    await first.login({ email: 'a@b.co' });
    await until(first.messages('r1'), (s) => s.messages.length === 2);
    await first.close();

    noProgress = true;
    const again = client({ wsUrl: url }, { indexedDB, transport: 'in-tab' }); // a reload: the cache anchors the room
    closers.push(() => again.close());
    const errors: ChatError[] = [];
    again.on('error', (error) => errors.push(error));
    await again.ready;
    const store = again.messages('r1');
    await eventually(() => expect(errors.map((e) => e.code)).toContain('INTERNAL'));
    const asked = counts.requests.get('get_messages')!;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(counts.requests.get('get_messages')).toBe(asked);
    expect(store.getSnapshot().messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it('a repeated or backward seq reaches the store once', async () => {
    let live: Socket | undefined;
    const { url } = await fakeServer((socket, frame) => {
      if (frame.action === 'get_user_rooms') return socket.sendReply(frame, { rooms: [room('r1')], nextCursor: null }), true;
      // The newest page itself holds seq 1 twice.
      if (frame.action === 'get_messages') return socket.sendReply(frame, { messages: [message('r1', 1), message('r1', 1, 'm1-twin')], hasMore: false }), true;
      return false;
    }, (socket) => void (live = socket));
    const c = client({ wsUrl: url }, { storage: 'memory' });
    closers.push(() => c.close());
    await c.login({ email: 'a@b.co' });
    const store = c.messages('r1');
    await until(store, (s) => !s.loading);
    expect(store.getSnapshot().messages.map((m) => m.id)).toEqual(['m1']);
    for (const m of [message('r1', 1), message('r1', 1, 'm1-again'), message('r1', 2), message('r1', 1, 'm1-back'), message('r1', 2)]) {
      live!.sendEvent('message_created', { message: m });
    }
    live!.sendEvent('message_created', { message: message('r1', 3) });
    const snapshot = await until(store, (s) => s.messages.some((m) => m.seq === 3));
    expect(snapshot.messages.map((m) => [m.seq, m.id])).toEqual([[1, 'm1'], [2, 'm2'], [3, 'm3']]);
  });

  it('a burst of 6,000 room_created is applied in one pass', async () => {
    const { url } = await fakeServer(() => {}, (socket) => {
      setTimeout(() => {
        for (let i = 0; i < 6000; i++) socket.sendEvent('room_created', { room: { ...room(`r${i}`), createdAt: 100 + i } });
      }, 20);
    });
    const c = client({ wsUrl: url }, { storage: 'memory' });
    closers.push(() => c.close());
    await c.login({ email: 'a@b.co' });
    let lists = 0;
    c.rooms.subscribe(() => void lists++);
    const started = performance.now();
    const rooms = await until(c.rooms, (r) => r.length === 6000, 20_000);
    console.log(`burst: 6,000 room_created applied in ${Math.round(performance.now() - started)} ms, ${lists} list changes`);
    expect(rooms[0]!.id).toBe('r5999'); // most recent first
    // One list per burst the socket delivered together, never one per event.
    expect(lists).toBeLessThan(600);
  });
});
