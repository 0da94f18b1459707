import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebSocket } from 'ws';
import { CloseCode, MAX_CLIENT_FRAME_BYTES } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { TestClient, createRoom, serverFixture, signUp, sleep } from './helpers.js';

const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start();
});
afterAll(() => fx.cleanup());
const open = async (s = server) => fx.track(await TestClient.open(s.wsUrl));

/** A ping request padded to exactly `bytes` bytes of UTF-8. */
function pingOfSize(bytes: number, requestId = 'big'): string {
  const empty = JSON.stringify({ action: 'ping', requestId, data: { pad: '' } });
  const frame = JSON.stringify({ action: 'ping', requestId, data: { pad: 'x'.repeat(bytes - empty.length) } });
  expect(Buffer.byteLength(frame)).toBe(bytes);
  return frame;
}

/** The HTTP status of a refused upgrade (or 101 when it was accepted). */
function upgradeStatus(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { headers });
    ws.on('open', () => {
      ws.close();
      resolve(101);
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('error', () => {});
  });
}

describe('frames', () => {
  test('a frame of exactly 64 KiB is accepted; one byte more closes 1009', async () => {
    const c = await open();
    c.sendRaw(pingOfSize(MAX_CLIENT_FRAME_BYTES, 'exact'));
    const reply = await c.waitReply('exact');
    expect(reply).toMatchObject({ ok: true });
    c.sendRaw(pingOfSize(MAX_CLIENT_FRAME_BYTES + 1, 'over'));
    expect((await c.closed).code).toBe(CloseCode.TOO_BIG);
  });

  test('the 19th unreadable frame keeps the connection, the 20th closes it 1008', async () => {
    const c = await open();
    const garbage = ['not json', '[]', '42', 'null', '{"action":"ping"}', '{"requestId":""}', `{"requestId":"${'r'.repeat(65)}","action":"ping"}`];
    for (let i = 0; i < 19; i++) c.sendRaw(garbage[i % garbage.length]!);
    expect((await c.call('ping')).serverTime).toEqual(expect.any(Number));
    expect(c.errorFrames).toHaveLength(19);
    expect(c.errorFrames[0]).toEqual({ type: 'error', error: { code: 'BAD_REQUEST', message: expect.any(String), retryable: false } });
    expect(c.frames.filter((f) => f.type === 'reply')).toHaveLength(1); // an over-long requestId gets no reply
    c.sendRaw('still not json');
    expect((await c.closed).code).toBe(CloseCode.POLICY);
    expect(c.errorFrames).toHaveLength(20);
  });

  test('BAD_REQUEST replies for a usable requestId do not count toward the 20', async () => {
    const c = await open();
    for (let i = 0; i < 25; i++) c.sendRaw(JSON.stringify({ action: 'nope', requestId: `n${i}` }));
    expect((await c.call('ping')).serverTime).toEqual(expect.any(Number));
    expect(c.frames.filter((f) => f.type === 'reply' && !f.ok)).toHaveLength(25);
  });

  test('a binary frame gets a BAD_REQUEST error frame', async () => {
    const c = await open();
    c.sendRaw(Buffer.from(JSON.stringify({ action: 'ping', requestId: 'bin' })), true);
    const frame = await c.waitFor((f) => f.type === 'error');
    expect(frame).toMatchObject({ error: { code: 'BAD_REQUEST', retryable: false } });
    expect((await c.call('ping')).serverTime).toBeGreaterThan(0);
  });
});

describe('rate limit', () => {
  test('a burst of 60 passes; the 61st is RATE_LIMITED with retryAfterMs; waiting it out works', async () => {
    // The default burst, refilled at 2 a second rather than 30: at 30 a token came back
    // whenever the 61 pings took over 33 ms to be read, as they did on a loaded machine.
    const s = await fx.start({ rateLimit: { perSecond: 2, burst: 60 } });
    const c = await open(s);
    const replies = await Promise.all(Array.from({ length: 61 }, () => c.request('ping')));
    const limited = replies.filter((r) => !r.ok);
    expect(limited).toHaveLength(1);
    expect(limited[0]!.error).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: expect.any(Number) });
    const wait = limited[0]!.error!.retryAfterMs!;
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(Math.ceil(1000 / 2) + 1);
    await sleep(wait + 5);
    expect((await c.request('ping')).ok).toBe(true);
  });

  test('invalid requests use tokens; unreadable frames do not', async () => {
    const s = await fx.start({ rateLimit: { perSecond: 1, burst: 3 } });
    const c = await open(s);
    for (let i = 0; i < 10; i++) c.sendRaw('garbage');
    expect((await c.request('ping')).ok).toBe(true);
    expect((await c.request('no_such_action')).error?.code).toBe('BAD_REQUEST');
    expect((await c.request('ping')).ok).toBe(true);
    expect((await c.request('ping')).error?.code).toBe('RATE_LIMITED');
  });
});

describe('timers', () => {
  test('no authentication in time closes 4408; signing in stops the clock', async () => {
    const s = await fx.start({ authTimeoutMs: 120 });
    const idle = await open(s);
    const signed = fx.track(await signUp(s));
    expect((await idle.closed).code).toBe(CloseCode.AUTH_TIMEOUT);
    await sleep(80);
    expect((await signed.client.call('ping')).serverTime).toBeGreaterThan(0);
  });

  test('a connection that misses two pings in a row is terminated; one that answers stays', async () => {
    const s = await fx.start({ heartbeatIntervalMs: 40 });
    const silent = fx.track(await TestClient.open(s.wsUrl, { autoPong: false }));
    const alive = await open(s);
    const closed = await silent.closed;
    expect(closed.code).toBe(1006); // terminated, no close frame
    expect(alive.ws.readyState).toBe(WebSocket.OPEN);
    expect((await alive.call('ping')).serverTime).toBeGreaterThan(0);
  });
});

describe('upgrade', () => {
  test('only /ws upgrades', async () => {
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/other`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/`)).toBe(404);
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/ws?x=1`)).toBe(101);
  });

  test('browser origins are checked; no Origin header is accepted', async () => {
    expect(await upgradeStatus(server.wsUrl)).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { Origin: 'http://localhost:5173' })).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { Origin: 'http://127.0.0.1:3000' })).toBe(101);
    expect(await upgradeStatus(server.wsUrl, { Origin: 'https://evil.example' })).toBe(403);
    expect(await upgradeStatus(server.wsUrl, { Origin: 'http://localhost.evil.example' })).toBe(403);
    const custom = await fx.start({ origins: ['https://*.example.com', 'https://app.test'] });
    expect(await upgradeStatus(custom.wsUrl, { Origin: 'https://chat.example.com' })).toBe(101);
    expect(await upgradeStatus(custom.wsUrl, { Origin: 'https://app.test' })).toBe(101);
    expect(await upgradeStatus(custom.wsUrl, { Origin: 'http://localhost:5173' })).toBe(403);
  });
});

describe('slow consumers', () => {
  test('a connection whose send buffer passes the cap is closed 1013; others keep being served', async () => {
    // The byte budgets would refuse the pages before the buffer fills: lifted, to reach the cap.
    const unlimited = { perSecond: 1e12, burst: 1e12 };
    const s = await fx.start({ maxBufferedBytes: 256 * 1024, rateLimit: { perSecond: 10_000, burst: 10_000 }, limits: { userBytes: unlimited, ipBytes: unlimited, serverBytes: unlimited } });
    const a = fx.track(await signUp(s));
    const slow = fx.track(await signUp(s));
    const room = await createRoom(a.client, [slow.user.id]);
    const text = '😀'.repeat(4000); // 16 KB of UTF-8 a message
    await Promise.all(Array.from({ length: 100 }, (_, i) => a.client.call('create_message', { roomId: room.id, clientId: `big-${i}`, text })));
    // Stop reading, then ask for ~1.6 MB pages until the kernel buffers are full too.
    const socket = (slow.client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    for (let i = 0; i < 40; i++) slow.client.send('get_messages', { roomId: room.id, limit: 100 });
    const started = Date.now();
    expect((await a.client.call('ping')).serverTime).toBeGreaterThan(0);
    await sendTextQuickly(a.client, room.id);
    expect(Date.now() - started).toBeLessThan(2000);
    socket.resume();
    expect((await slow.client.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
  });
});

async function sendTextQuickly(c: TestClient, roomId: string) {
  const { message } = await c.call('create_message', { roomId, clientId: 'after-slow', text: 'still here' });
  expect(message.seq).toBe(101);
}
