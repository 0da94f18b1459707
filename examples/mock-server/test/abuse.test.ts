// Abuse resistance: limits that hold per user and per address across connections, cost
// counted in bytes, uploads with quotas and clean-up, directory privacy, and the small
// text and token fixes. Each test starts its own server with the limit under test small.
import { request } from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { CloseCode, MAX_UPLOAD_BYTES, PROTOCOL_VERSION } from '@chat/sdk/protocol';
import type { RunningServer, ServerOptions } from '../src/index.js';
import { TestClient, createRoom, serverFixture, signUp, uniqueEmail } from './helpers.js';
import { png } from './images.js';

const fx = serverFixture();
afterEach(() => fx.cleanup());

const start = (options: ServerOptions = {}) => fx.start(options);
const open = async (server: RunningServer) => fx.track(await TestClient.open(server.wsUrl));
const login = (c: TestClient, token: string) => c.request('create_connection', { protocolVersion: PROTOCOL_VERSION, token });

function post(url: string, token: string, body: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${token}`, 'Content-Length': String(body.length), ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('connections per user and per address', () => {
  test('a user past its maximum of connections is refused RATE_LIMITED with retryAfterMs; one closing frees a place', async () => {
    const server = await start({ limits: { connectionsPerUser: 2 } });
    const a = fx.track(await signUp(server)); // connection 1
    const second = await open(server);
    expect((await login(second, a.token)).ok).toBe(true);
    const third = await open(server);
    const refused = await login(third, a.token);
    expect(refused.error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    // Email sign-in is refused the same way, before a session is written.
    expect((await third.request('create_connection', { protocolVersion: PROTOCOL_VERSION, email: a.user.email })).error?.code).toBe('RATE_LIMITED');
    second.close();
    await second.closed;
    await expect.poll(async () => (await login(await open(server), a.token)).ok).toBe(true);
  });

  test('an address past its maximum of sockets is closed 1013 at once', async () => {
    const server = await start({ limits: { connectionsPerIp: 3 } });
    const held = await Promise.all([open(server), open(server), open(server)]);
    const fourth = await open(server);
    expect((await fourth.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
    held[0]!.close();
    await held[0]!.closed;
    await expect.poll(async () => {
      const c = await open(server);
      return (await c.request('ping')).ok;
    }).toBe(true);
  });
});

describe('the client\'s address', () => {
  test('behind a trusted proxy it is the last X-Forwarded-For entry; otherwise the header is ignored', async () => {
    const proxied = await start({ trustProxy: true, limits: { connectionsPerIp: 1 } });
    const via = (address: string) => TestClient.open(proxied.wsUrl, { headers: { 'X-Forwarded-For': `203.0.113.9, ${address}` } }).then((c) => fx.track(c));
    const first = await via('198.51.100.1');
    const other = await via('198.51.100.2');
    expect((await other.request('ping')).ok).toBe(true);
    const same = await via('198.51.100.1');
    expect((await same.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
    expect((await first.request('ping')).ok).toBe(true);
    // Without trustProxy the header is the client's word: every socket here is 127.0.0.1.
    const direct = await start({ limits: { connectionsPerIp: 1 } });
    fx.track(await TestClient.open(direct.wsUrl, { headers: { 'X-Forwarded-For': '198.51.100.3' } }));
    const second = fx.track(await TestClient.open(direct.wsUrl, { headers: { 'X-Forwarded-For': '198.51.100.4' } }));
    expect((await second.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
  });
});

describe('rates per user and per address, across connections', () => {
  test('messages: a user on many connections gets no more than its own rate', async () => {
    const server = await start({ limits: { userMessages: { perSecond: 1, burst: 5 } } });
    const a = fx.track(await signUp(server));
    const b = fx.track(await signUp(server));
    const room = await createRoom(a.client, [b.user.id]);
    const tabs = [a.client, ...(await Promise.all([open(server), open(server)]))];
    for (const tab of tabs.slice(1)) await tab.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token: a.token });
    const replies = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tabs[i % 3]!.request('create_message', { roomId: room.id, clientId: `m${i}`, text: `hi ${i}` })),
    );
    expect(replies.filter((r) => r.ok)).toHaveLength(5);
    const refused = replies.filter((r) => !r.ok);
    expect(refused.every((r) => r.error?.code === 'RATE_LIMITED' && r.error.retryAfterMs! > 0)).toBe(true);
    // Another user in the same room is not slowed.
    expect((await b.client.request('create_message', { roomId: room.id, clientId: 'b1', text: 'me too' })).ok).toBe(true);
  });

  test('sign-ups per address: the next is RATE_LIMITED; closed sign-up is FORBIDDEN', async () => {
    const server = await start({ limits: { signupsPerIp: { perSecond: 1 / 3600, burst: 3 } } });
    const c = await open(server);
    for (let i = 0; i < 3; i++) await c.call('create_user', { email: uniqueEmail() });
    const other = await open(server); // another socket from the same address shares the count
    expect((await other.request('create_user', { email: uniqueEmail() })).error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    const closed = await start({ signup: 'closed' });
    expect(await (await open(closed)).fail('create_user', { email: uniqueEmail() })).toBe('FORBIDDEN');
  });

  test('rooms per user, and members per room', async () => {
    const server = await start({ limits: { roomsPerUser: { perSecond: 1 / 3600, burst: 2 }, maxRoomMembers: 3 } });
    const [a, b, c, d] = await Promise.all([signUp(server), signUp(server), signUp(server), signUp(server)].map(async (p) => fx.track(await p)));
    expect(await a!.client.fail('create_room', { memberIds: [b!.user.id, c!.user.id, d!.user.id] })).toBe('TOO_LARGE');
    await createRoom(a!.client, [b!.user.id, c!.user.id]);
    await createRoom(a!.client, [b!.user.id]);
    expect((await a!.client.request('create_room', { memberIds: [c!.user.id] })).error?.code).toBe('RATE_LIMITED');
    await createRoom(b!.client, [c!.user.id]); // another user has its own count
  });

  test('requests are charged by the bytes they cost: big history pages put the user in debt', async () => {
    const server = await start({ rateLimit: { perSecond: 10_000, burst: 10_000 }, limits: { userBytes: { perSecond: 100_000, burst: 1_000_000 }, ipBytes: { perSecond: 1e12, burst: 1e12 }, serverBytes: { perSecond: 1e12, burst: 1e12 } } });
    const a = fx.track(await signUp(server));
    const b = fx.track(await signUp(server));
    const room = await createRoom(a.client, [b.user.id]);
    const text = 'x'.repeat(4000);
    for (let i = 0; i < 100; i++) await a.client.call('create_message', { roomId: room.id, clientId: `big${i}`, text });
    let refused;
    for (let i = 0; i < 10 && !refused; i++) {
      const reply = await b.client.request('get_messages', { roomId: room.id, limit: 100 });
      if (!reply.ok) refused = reply.error;
    }
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    // Cheap requests of another user are not held up.
    expect((await a.client.request('ping')).ok).toBe(true);
  });
});

describe('the whole server\'s reply bytes', () => {
  test('while in debt, requests that answer big pages wait (anyone\'s); small requests and messages do not', async () => {
    const unlimited = { perSecond: 1e12, burst: 1e12 };
    const server = await start({ rateLimit: { perSecond: 10_000, burst: 10_000 }, limits: { userBytes: unlimited, ipBytes: unlimited, serverBytes: { perSecond: 1000, burst: 300_000 } } });
    const a = fx.track(await signUp(server));
    const b = fx.track(await signUp(server));
    const room = await createRoom(a.client, [b.user.id]);
    for (let i = 0; i < 100; i++) await a.client.call('create_message', { roomId: room.id, clientId: `g${i}`, text: 'y'.repeat(4000) });
    let refused;
    for (let i = 0; i < 5 && !refused; i++) {
      const reply = await b.client.request('get_messages', { roomId: room.id, limit: 100 });
      if (!reply.ok) refused = reply.error;
    }
    expect(refused).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: expect.any(Number) });
    expect((await a.client.request('get_user_rooms')).error?.code).toBe('RATE_LIMITED');
    expect((await a.client.request('get_changes', { roomId: room.id, afterRev: 0 })).error?.code).toBe('RATE_LIMITED');
    expect((await a.client.request('ping')).ok).toBe(true);
    expect((await a.client.request('create_message', { roomId: room.id, clientId: 'small', text: 'still sending' })).ok).toBe(true);
  });
});

describe('slow readers', () => {
  test('when all connections together hold more than the process cap, the one holding most is closed 1013', async () => {
    const unlimited = { perSecond: 1e12, burst: 1e12 };
    const server = await start({ rateLimit: { perSecond: 10_000, burst: 10_000 }, limits: { maxHeldBytes: 300 * 1024, userBytes: unlimited, ipBytes: unlimited, serverBytes: unlimited } });
    const a = fx.track(await signUp(server));
    const slow = fx.track(await signUp(server));
    const room = await createRoom(a.client, [slow.user.id]);
    const text = '😀'.repeat(4000);
    for (let i = 0; i < 60; i++) await a.client.call('create_message', { roomId: room.id, clientId: `s${i}`, text });
    const socket = (slow.client.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    socket.pause();
    for (let i = 0; i < 20; i++) slow.client.send('get_messages', { roomId: room.id, limit: 100 });
    expect((await a.client.request('ping')).ok).toBe(true);
    socket.resume();
    expect((await slow.client.closed).code).toBe(CloseCode.TRY_AGAIN_LATER);
  });
});

describe('text', () => {
  test('a lone surrogate is stored and echoed as U+FFFD, the same in the reply and in history', async () => {
    const server = await start();
    const a = fx.track(await signUp(server));
    const room = await createRoom(a.client, [fx.track(await signUp(server)).user.id]);
    a.client.sendRaw(`{"action":"create_message","requestId":"s1","data":{"roomId":"${room.id}","clientId":"sur","text":"a\\ud800b"}}`);
    const reply = await a.client.waitReply('s1');
    expect(reply.data.message.text).toBe('a\uFFFDb');
    const { messages } = await a.client.call('get_messages', { roomId: room.id });
    expect(messages[0].text).toBe('a\uFFFDb');
  });

  test('text of only zero-width characters is blank (BAD_REQUEST)', async () => {
    const server = await start();
    const a = fx.track(await signUp(server));
    const room = await createRoom(a.client, [fx.track(await signUp(server)).user.id]);
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'zw', text: '\u200B\u200D\uFEFF' })).toBe('BAD_REQUEST');
    expect((await a.client.request('create_message', { roomId: room.id, clientId: 'ok', text: '\u200Bhi' })).ok).toBe(true);
  });
});

describe('uploads', () => {
  test('relative urls, whatever Host the uploader sends; a public url when set', async () => {
    const server = await start();
    const a = fx.track(await signUp(server));
    const res = await post(`${server.httpUrl}/uploads`, a.token, png(2, 2), { Host: 'evil.example' });
    expect(res.body.url).toMatch(/^\/uploads\/[A-Za-z0-9_-]+$/);
  });

  test('a user has a limited number of uploads in progress', async () => {
    const server = await start({ limits: { concurrentUploads: 1 } });
    const a = fx.track(await signUp(server));
    // One upload that stalls half-way holds the only place.
    const stalled = request(`${server.httpUrl}/uploads`, { method: 'POST', headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${a.token}`, 'Content-Length': '1000' } });
    stalled.on('error', () => {});
    stalled.write(png(2, 2, 100));
    await new Promise((r) => setTimeout(r, 100));
    const second = await post(`${server.httpUrl}/uploads`, a.token, png(2, 2));
    expect(second.status).toBe(429);
    stalled.destroy();
    await expect.poll(async () => (await post(`${server.httpUrl}/uploads`, a.token, png(2, 2))).status).toBe(201);
  });

  test('per-user quota: bytes per day (429, Retry-After) and bytes in all', async () => {
    const server = await start({ limits: { uploadBytesPerDay: 3000, uploadBytesTotal: 1_000_000 } });
    const a = fx.track(await signUp(server));
    expect((await post(`${server.httpUrl}/uploads`, a.token, png(2, 2, 2000))).status).toBe(201);
    expect((await post(`${server.httpUrl}/uploads`, a.token, png(2, 2, 2000))).status).toBe(429);
    const small = await start({ limits: { uploadBytesTotal: 2500 } });
    const b = fx.track(await signUp(small));
    expect((await post(`${small.httpUrl}/uploads`, b.token, png(2, 2, 2000))).status).toBe(201);
    expect((await post(`${small.httpUrl}/uploads`, b.token, png(2, 2, 2000))).status).toBe(429);
  });

  test('orphan uploads (never used by a message) are deleted after their time; used ones are kept', async () => {
    const server = await start({ limits: { orphanUploadTtlMs: 1000 } });
    const a = fx.track(await signUp(server));
    const room = await createRoom(a.client, [fx.track(await signUp(server)).user.id]);
    const orphan = (await post(`${server.httpUrl}/uploads`, a.token, png(2, 2))).body.url;
    const used = (await post(`${server.httpUrl}/uploads`, a.token, png(3, 3))).body.url;
    await a.client.call('create_message', { roomId: room.id, clientId: 'img', image: { url: used } });
    await new Promise((r) => setTimeout(r, 1100));
    server.sweep();
    expect((await fetch(`${server.httpUrl}${orphan}`)).status).toBe(404);
    expect((await fetch(`${server.httpUrl}${used}`)).status).toBe(200);
    expect(await a.client.fail('create_message', { roomId: room.id, clientId: 'late', image: { url: orphan } })).toBe('NOT_FOUND');
  });

  test('one byte over 5 MiB is answered 413 to a client that sends it all (no broken pipe)', async () => {
    const server = await start();
    const a = fx.track(await signUp(server));
    const res = await post(`${server.httpUrl}/uploads`, a.token, png(2, 2, MAX_UPLOAD_BYTES + 1));
    expect(res.status).toBe(413);
    const viaFetch = await fetch(`${server.httpUrl}/uploads`, { method: 'POST', headers: { 'Content-Type': 'image/png', Authorization: `Bearer ${a.token}` }, body: new Blob([new Uint8Array(png(2, 2, MAX_UPLOAD_BYTES + 1))]) });
    expect(viaFetch.status).toBe(413);
  });
});
