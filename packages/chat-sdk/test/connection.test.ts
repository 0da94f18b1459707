import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Server, WebSocket as MockWebSocket } from 'mock-socket';
import type { RunningServer } from '@chat/mock-server';
import { type ChatClient, type ChatError, createChatClient } from '../src/node.js';
import { IDBFactory, client, email, server, until } from './helpers.js';

/**
 * What the real server cannot be made to do (garbage frames, silence) comes from
 * mock-socket; close codes and sessions come from the real reference server.
 */

let nextUrl = 0;
const mockUrl = () => `ws://mock-${nextUrl++}.test/ws`;
const user = { id: 'u1', email: 'a@b.co', name: 'a', createdAt: 1 };

type Frame = { action: string; requestId: string; data?: Record<string, unknown> };
const reply = (frame: Frame, data: unknown) => JSON.stringify({ type: 'reply', requestId: frame.requestId, ok: true, data });

/** A minimal well-behaved server; `silent` makes it stop answering after login. */
function mockServer(url: string, options: { afterLogin?: (send: (text: string) => void) => void; silentAfterLogin?: boolean } = {}) {
  const srv = new Server(url);
  let connections = 0;
  srv.on('connection', (socket) => {
    connections++;
    let authed = false;
    socket.on('message', (raw) => {
      const frame = JSON.parse(String(raw)) as Frame;
      if (authed && options.silentAfterLogin) return;
      switch (frame.action) {
        case 'create_connection':
          authed = true;
          socket.send(reply(frame, { user, token: 'tok', protocolVersion: 1, serverTime: 1 }));
          options.afterLogin?.((text) => socket.send(text));
          return;
        case 'get_user_rooms':
          socket.send(reply(frame, { rooms: [] }));
          return;
        case 'get_users':
          socket.send(reply(frame, { users: [user], nextCursor: null }));
          return;
        case 'ping':
          socket.send(reply(frame, { serverTime: 2 }));
          return;
      }
    });
  });
  return { srv, connections: () => connections };
}

const mocks: Server[] = [];
const clients: ChatClient[] = [];
let real: RunningServer | undefined;

function mockClient(url: string, options: Partial<Parameters<typeof createChatClient>[0]> = {}) {
  const c = createChatClient({ url, WebSocket: MockWebSocket as never, storage: 'memory', requestTimeoutMs: 300, ...options });
  clients.push(c);
  return c;
}

afterEach(async () => {
  vi.useRealTimers();
  for (const c of clients.splice(0)) c.close();
  for (const m of mocks.splice(0)) m.stop();
  await real?.close();
  real = undefined;
});

describe('connection against a misbehaving server (mock-socket)', () => {
  it('reports malformed frames as error events, ignores unknown events, and keeps working', async () => {
    const url = mockUrl();
    const { srv } = mockServer(url, {
      afterLogin: (send) => {
        send('not json');
        send('{"type":"weird"}');
        send(JSON.stringify({ type: 'event', event: 'message_created', data: { message: { id: 1 } } }));
        send(JSON.stringify({ type: 'event', event: 'reaction_added', data: { userId: 'u2' } })); // unknown (typing is known since 1.1)
        send(JSON.stringify({ type: 'reply', requestId: 'nobody-asked', ok: true, data: {} }));
      },
    });
    mocks.push(srv);
    const c = mockClient(url);
    const errors: ChatError[] = [];
    c.on('error', (error) => errors.push(error));
    await c.login({ email: 'a@b.co' });
    await until(c.connection, (s) => s.status === 'open');
    const { users } = await c.users({ query: 'a' });
    expect(users).toEqual([user]);
    expect(errors.map((e) => e.code)).toEqual(['BAD_REQUEST', 'BAD_REQUEST', 'BAD_REQUEST']);
    expect(c.connection.getSnapshot().status).toBe('open');
  });

  it('fails a request with TIMEOUT when the server never answers', async () => {
    const url = mockUrl();
    const srv = new Server(url); // accepts, never answers
    mocks.push(srv);
    const c = mockClient(url);
    await expect(c.login({ email: 'a@b.co' })).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
  });

  it('finds a dead socket with an idle ping and reconnects', async () => {
    const url = mockUrl();
    const { srv, connections } = mockServer(url, { silentAfterLogin: true });
    mocks.push(srv);
    const c = mockClient(url, { pingIntervalMs: 100, requestTimeoutMs: 150, backoff: () => 10 });
    await c.login({ email: 'a@b.co' });
    await until(c.connection, (s) => s.status === 'reconnecting', 3000, 'the ping to fail');
    await until({ getSnapshot: () => connections(), subscribe: (l) => { const t = setInterval(l, 10); return () => clearInterval(t); } }, (n) => n >= 2, 3000, 'a second socket');
  });

  it('backs off between reconnects as the backoff function says, and resets after success', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const url = mockUrl();
    const { srv } = mockServer(url);
    mocks.push(srv);
    const waits: number[] = [];
    const c = mockClient(url, { backoff: (attempt) => (waits.push(attempt), attempt * 1000) });
    const login = c.login({ email: 'a@b.co' });
    await vi.advanceTimersByTimeAsync(50);
    await login;
    expect(c.connection.getSnapshot().status).toBe('open');

    srv.close({ code: 1006, reason: 'gone', wasClean: false });
    srv.stop();
    mocks.length = 0;
    await vi.advanceTimersByTimeAsync(50);
    const first = c.connection.getSnapshot();
    expect(first).toMatchObject({ status: 'reconnecting', attempt: 1 });
    expect(first.nextRetryAt! - Date.now()).toBeGreaterThan(900);
    await vi.advanceTimersByTimeAsync(1100);
    expect(c.connection.getSnapshot()).toMatchObject({ status: 'reconnecting', attempt: 2 });
    expect(waits).toEqual([1, 2]);

    const { srv: back } = mockServer(url);
    mocks.push(back);
    await vi.advanceTimersByTimeAsync(2100);
    expect(c.connection.getSnapshot()).toMatchObject({ status: 'open', attempt: 0 });
  });
});

describe('a restart with a retry hint and window (mock-socket)', () => {
  it('comes back after the hint within the window, and tells the backoff that window if the server is still down', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const url = mockUrl();
    const { srv } = mockServer(url);
    mocks.push(srv);
    const asked: Array<[number, number | undefined]> = [];
    const c = mockClient(url, { backoff: (attempt, windowMs) => (asked.push([attempt, windowMs]), 60_000) });
    const login = c.login({ email: 'a@b.co' });
    await vi.advanceTimersByTimeAsync(50);
    await login;
    srv.close({ code: 1001, reason: 'server shutting down; retryWindowMs=4000; retryAfterMs=1000', wasClean: true });
    srv.stop();
    mocks.length = 0;
    await vi.advanceTimersByTimeAsync(10);
    const waiting = c.connection.getSnapshot();
    expect(waiting).toMatchObject({ status: 'reconnecting', attempt: 1 });
    expect(waiting.nextRetryAt! - Date.now()).toBeGreaterThanOrEqual(990);
    expect(waiting.nextRetryAt! - Date.now()).toBeLessThanOrEqual(5000);
    expect(asked).toEqual([]); // the hint, not the backoff, decided the first wait
    await vi.advanceTimersByTimeAsync(5100);
    expect(asked[0]).toEqual([2, 4000]);
  });
});

describe('a restart with a retry hint (real server)', () => {
  it('waits as long as the server said before its first retry, spread over as long again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-hint-'));
    const db = join(dir, 'chat.sqlite');
    try {
      real = await server({ db, restartRetryAfterMs: 1500 });
      const port = Number(new URL(real.wsUrl).port);
      const asked: number[] = [];
      const c = client(real, { backoff: (attempt) => (asked.push(attempt), 50) });
      clients.push(c);
      await c.signUp({ email: email('hint') });
      const closedAt = Date.now();
      await real.close();
      real = undefined;
      const waiting = await until(c.connection, (s) => s.status === 'reconnecting');
      const wait = waiting.nextRetryAt! - closedAt;
      expect(wait).toBeGreaterThanOrEqual(1500);
      expect(wait).toBeLessThanOrEqual(3000 + 500);
      expect(asked).toEqual([]); // the hint, not the backoff, decided the first wait
      real = await server({ db, port });
      await until(c.connection, (s) => s.status === 'open', 10_000, 'back after the hinted wait');
      expect(Date.now() - closedAt).toBeGreaterThanOrEqual(1500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('sessions ending (real server)', () => {
  it('a session revoked elsewhere (4001) drops the session and stays closed', async () => {
    real = await server();
    const first = client(real);
    clients.push(first);
    await first.signUp({ email: email('rev') });
    const token = first.session.getSnapshot()!.token;
    const second = client(real);
    clients.push(second);
    await second.login({ token });
    const ended = new Promise((resolve) => first.on('session', (session, reason) => session === null && resolve(reason)));
    await second.logout();
    expect(await ended).toBe('revoked');
    expect(first.session.getSnapshot()).toBeNull();
    expect(first.connection.getSnapshot().status).toBe('closed');
    expect(second.connection.getSnapshot().status).toBe('closed');
  });

  it('an expired token on resume drops the session but keeps unsent messages for the next login', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chat-sdk-ttl-'));
    const db = join(dir, 'chat.sqlite');
    try {
      real = await server({ db, sessionTtlMs: 500 });
      const idb = new IDBFactory();
      const bob = client(real);
      clients.push(bob);
      const b = await bob.signUp({ email: email('bob') });
      const alice = client(real, { indexedDB: idb });
      clients.push(alice);
      const a = await alice.signUp({ email: email('alice') });
      const room = await alice.createRoom({ memberIds: [b.id] });
      await until(alice.rooms, (rooms) => rooms.length === 1);
      const port = real.port;
      await real.close();
      alice.send(room.id, { text: 'kept for later' });
      await new Promise((r) => setTimeout(r, 600)); // the session expires meanwhile
      alice.close();

      real = await server({ db, port, sessionTtlMs: 500 });
      const again = client(real, { indexedDB: idb });
      clients.push(again);
      const ended = new Promise((resolve) => again.on('session', (session, reason) => session === null && resolve(reason)));
      await again.ready;
      expect(await ended).toBe('rejected');
      await again.login({ email: a.email });
      const store = again.messages(room.id);
      const done = await until(store, (s) => s.messages.length === 1 && s.messages[0]!.status === 'sent', 15_000);
      expect(done.messages[0]!.text).toBe('kept for later');
    } finally {
      await real?.close();
      real = undefined;
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
