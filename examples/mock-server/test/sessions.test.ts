import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CloseCode, type User } from '@chat/sdk/protocol';
import { type RunningServer, signJwt, startServer } from '../src/index.js';
import { TestClient, eventually, joinSession, serverFixture, signUp, sleep, uniqueEmail } from './helpers.js';

const SECRET = 'test-secret-of-some-length';
const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start({ jwtSecret: SECRET });
});
afterAll(() => fx.cleanup());

const open = async (s = server) => fx.track(await TestClient.open(s.wsUrl));
const user = async (s = server) => fx.track(await signUp(s));
const inSeconds = (s: number) => Math.floor(Date.now() / 1000) + s;

describe('create_connection', () => {
  test('email login opens a new session each time; a token login joins it', async () => {
    const a = await user();
    const c = await open();
    const second = await c.call('create_connection', { protocolVersion: 1, email: a.user.email });
    expect(second).toEqual({ user: a.user, token: expect.any(String), protocolVersion: 1, serverTime: expect.any(Number) });
    expect(second.token).not.toBe(a.token);
    expect(second.token.length).toBeGreaterThanOrEqual(40);
    const tab = await open();
    const joined = await tab.call('create_connection', { protocolVersion: 1, token: a.token });
    expect(joined.token).toBe(a.token);
    expect(server.stats().perUser[a.user.id]).toBe(3);
  });

  test('NOT_FOUND for an unknown email, UNAUTHENTICATED for an unknown token', async () => {
    const c = await open();
    expect(await c.fail('create_connection', { protocolVersion: 1, email: uniqueEmail() })).toBe('NOT_FOUND');
    expect(await c.fail('create_connection', { protocolVersion: 1, token: 'cs_not-a-token' })).toBe('UNAUTHENTICATED');
    // Still usable after failures.
    const a = await user();
    expect((await c.call('create_connection', { protocolVersion: 1, token: a.token })).user.id).toBe(a.user.id);
  });

  test('protocolVersion: missing is BAD_REQUEST, another number UNSUPPORTED_PROTOCOL', async () => {
    const a = await user();
    const c = await open();
    expect(await c.fail('create_connection', { email: a.user.email })).toBe('BAD_REQUEST');
    expect(await c.fail('create_connection', { protocolVersion: 2, email: a.user.email })).toBe('UNSUPPORTED_PROTOCOL');
    expect(await c.fail('create_connection', { protocolVersion: 1.2, email: a.user.email })).toBe('UNSUPPORTED_PROTOCOL');
    expect(await c.fail('create_connection', { protocolVersion: 1 })).toBe('BAD_REQUEST');
    expect(await c.fail('create_connection', { protocolVersion: 1, email: a.user.email, token: a.token })).toBe('BAD_REQUEST');
  });

  test('the reply echoes the version the client signed in with (1 and 1.1 are both accepted)', async () => {
    const a = await user();
    for (const protocolVersion of [1, 1.1]) {
      const c = await open();
      expect((await c.call('create_connection', { protocolVersion, token: a.token })).protocolVersion).toBe(protocolVersion);
    }
  });

  test('a second create_connection on a connection is BAD_REQUEST', async () => {
    const a = await user();
    expect(await a.client.fail('create_connection', { protocolVersion: 1, token: a.token })).toBe('BAD_REQUEST');
  });

  test('email login switched off is FORBIDDEN; token login still works', async () => {
    const off = await fx.start({ emailLogin: false });
    const c = await open(off);
    const { user: u } = await c.call<{ user: User }>('create_user', { email: uniqueEmail() });
    expect(await c.fail('create_connection', { protocolVersion: 1, email: u.email })).toBe('FORBIDDEN');
    expect(await c.fail('create_connection', { protocolVersion: 1, token: 'cs_x' })).toBe('UNAUTHENTICATED');
  });

  test('email login is off unless asked for, on a loopback host too (a proxy in front listens there)', async () => {
    const wild = await startServer(); // as an embedder calls it, without the tests' options
    try {
      const c = fx.track(await TestClient.open(`ws://127.0.0.1:${wild.port}/ws`));
      const { user: u } = await c.call<{ user: User }>('create_user', { email: uniqueEmail() });
      expect(await c.fail('create_connection', { protocolVersion: 1, email: u.email })).toBe('FORBIDDEN');
    } finally {
      await wild.close();
    }
  });
});

describe('JWT', () => {
  test('a valid JWT opens a session whose token works on other tabs', async () => {
    const a = await user();
    const c = await open();
    const reply = await c.call('create_connection', { protocolVersion: 1, token: signJwt({ sub: a.user.id, exp: inSeconds(60) }, SECRET) });
    expect(reply.user).toEqual(a.user);
    expect(reply.token).not.toContain('.');
    await joinSession(server, reply.token).then((t) => fx.track(t));
  });

  test('expired, missing exp, wrong secret, unknown sub, alg none: UNAUTHENTICATED', async () => {
    const a = await user();
    const c = await open();
    const bad = [
      signJwt({ sub: a.user.id, exp: inSeconds(-1) }, SECRET),
      signJwt({ sub: a.user.id }, SECRET),
      signJwt({ sub: a.user.id, exp: inSeconds(60) }, 'another-secret'),
      signJwt({ sub: 'u_nobody', exp: inSeconds(60) }, SECRET),
      `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: a.user.id, exp: inSeconds(60) })).toString('base64url')}.`,
    ];
    for (const token of bad) expect(await c.fail('create_connection', { protocolVersion: 1, token })).toBe('UNAUTHENTICATED');
  });

  test('without a secret, JWTs are UNAUTHENTICATED', async () => {
    const plain = await fx.start();
    const a = await user(plain);
    const c = await open(plain);
    expect(await c.fail('create_connection', { protocolVersion: 1, token: signJwt({ sub: a.user.id, exp: inSeconds(60) }, SECRET) })).toBe('UNAUTHENTICATED');
  });

  test('a session opened with a JWT ends no later than its exp', async () => {
    const a = await user();
    const c = await open();
    const exp = inSeconds(1); // at most a second away
    const { token } = await c.call('create_connection', { protocolVersion: 1, token: signJwt({ sub: a.user.id, exp }, SECRET) });
    await sleep(exp * 1000 - Date.now() + 20);
    const late = await open();
    expect(await late.fail('create_connection', { protocolVersion: 1, token })).toBe('UNAUTHENTICATED');
    // The open connection is told too: UNAUTHENTICATED, then closed 4001.
    expect(await c.fail('ping')).toBe('UNAUTHENTICATED');
    expect((await c.closed).code).toBe(CloseCode.SESSION_REVOKED);
  });
});

describe('session lifetime', () => {
  test('a token past the session TTL is UNAUTHENTICATED', async () => {
    const short = await fx.start({ sessionTtlMs: 150 });
    const a = await user(short);
    await sleep(200);
    const c = await open(short);
    expect(await c.fail('create_connection', { protocolVersion: 1, token: a.token })).toBe('UNAUTHENTICATED');
  });
});

describe('delete_connection', () => {
  test('reply, then this connection closes 1000, the session\'s others 4001; other sessions stay; the token is revoked', async () => {
    const a = await user();
    const tab = await joinSession(server, a.token).then((t) => fx.track(t));
    const otherSession = await open();
    await otherSession.call('create_connection', { protocolVersion: 1, email: a.user.email });
    const reply = await a.client.request('delete_connection', {});
    expect(reply).toMatchObject({ ok: true, data: {} });
    expect((await a.client.closed).code).toBe(CloseCode.NORMAL);
    expect((await tab.closed).code).toBe(CloseCode.SESSION_REVOKED);
    expect((await otherSession.call('ping')).serverTime).toEqual(expect.any(Number));
    const again = await open();
    expect(await again.fail('create_connection', { protocolVersion: 1, token: a.token })).toBe('UNAUTHENTICATED');
    await eventually(() => server.stats().perUser[a.user.id] === 1);
  });
});

describe('stats', () => {
  test('counts open sockets, authenticated ones, and per user', async () => {
    const s = await fx.start();
    expect(s.stats()).toEqual({ connections: 0, authenticated: 0, perUser: {} });
    const anon = await open(s);
    const a = await user(s);
    const tab = fx.track(await joinSession(s, a.token));
    await eventually(() => s.stats().connections === 3);
    expect(s.stats()).toEqual({ connections: 3, authenticated: 2, perUser: { [a.user.id]: 2 } });
    tab.close();
    anon.close();
    await eventually(() => s.stats().connections === 1);
    expect(s.stats()).toEqual({ connections: 1, authenticated: 1, perUser: { [a.user.id]: 1 } });
  });
});
