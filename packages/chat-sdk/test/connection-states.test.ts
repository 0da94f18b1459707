import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { type ChatClient, isChatError } from '../src/index.js';
import { client, email, server, until } from './helpers.js';

/**
 * What an app shows when the server cannot be reached must be true: NETWORK as soon as the
 * socket fails, naming the url; TIMEOUT only for a real time-out; no stale `reconnecting`.
 */

const clients: ChatClient[] = [];
const servers: RunningServer[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function track(c: ChatClient): ChatClient {
  clients.push(c);
  return c;
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function loginError(c: ChatClient): Promise<{ error: unknown; ms: number }> {
  const started = Date.now();
  const error = await c.login({ email: 'nobody@example.com' }).then(
    () => null,
    (e: unknown) => e,
  );
  return { error, ms: Date.now() - started };
}

describe('connection states', () => {
  it('a refused port fails the login with NETWORK at once, naming the url, and the connection goes back to idle', async () => {
    const url = `ws://127.0.0.1:${await deadPort()}/ws`;
    const c = track(client({ wsUrl: url }, { requestTimeoutMs: 10_000 }));
    const { error, ms } = await loginError(c);
    expect(isChatError(error) && error.code).toBe('NETWORK');
    expect((error as Error).message).toContain(url);
    expect(ms).toBeLessThan(3_000);
    const state = c.connection.getSnapshot();
    expect(state.status).toBe('idle');
    expect(state.error?.code).toBe('NETWORK');
    // And it stays there: nothing keeps retrying a login that failed.
    await new Promise((r) => setTimeout(r, 300));
    expect(c.connection.getSnapshot().status).toBe('idle');
  });

  it('a wrong path and an unresolvable host are NETWORK too, not a 10 s TIMEOUT', async () => {
    const srv = await server();
    servers.push(srv);
    const wrongPath = track(client({ wsUrl: srv.wsUrl.replace('/ws', '/nope') }, { requestTimeoutMs: 10_000 }));
    const badHost = track(client({ wsUrl: 'ws://no-such-host.invalid/ws' }, { requestTimeoutMs: 10_000 }));
    for (const c of [wrongPath, badHost]) {
      const { error, ms } = await loginError(c);
      expect(isChatError(error) && error.code).toBe('NETWORK');
      expect(ms).toBeLessThan(5_000);
      expect(c.connection.getSnapshot()).toMatchObject({ status: 'idle', error: { code: 'NETWORK' } });
    }
  });

  it('a server that accepts the socket but never answers is a real TIMEOUT', async () => {
    const srv = await server();
    servers.push(srv);
    srv.faults.stall(5_000);
    const c = track(client(srv, { requestTimeoutMs: 300 }));
    const { error } = await loginError(c);
    expect(isChatError(error) && error.code).toBe('TIMEOUT');
    expect(c.connection.getSnapshot().status).toBe('idle');
  });

  it('a refused login (unknown email) leaves the connection idle, not reconnecting', async () => {
    const srv = await server();
    servers.push(srv);
    const c = track(client(srv));
    const { error } = await loginError(c);
    expect(isChatError(error) && error.code).toBe('NOT_FOUND');
    expect(c.connection.getSnapshot()).toMatchObject({ status: 'idle', attempt: 0 });
  });

  it('a lost connection says NETWORK with the url while reconnecting; reconnect() tries now with a fresh backoff', async () => {
    const srv = await server();
    servers.push(srv);
    // A slow backoff, so only reconnect() can bring it back within the test.
    const c = track(client(srv, { backoff: () => 60_000 }));
    await c.signUp({ email: email('ada') });
    await until(c.connection, (s) => s.status === 'open');
    srv.faults.dropAll();
    const lost = await until(c.connection, (s) => s.status === 'reconnecting', 5_000, 'reconnecting');
    expect(lost.error?.code).toBe('NETWORK');
    expect(lost.error?.message).toContain(srv.wsUrl);
    expect(lost.nextRetryAt! - Date.now()).toBeGreaterThan(30_000);
    await c.reconnect();
    const back = await until(c.connection, (s) => s.status === 'open', 5_000, 'open again');
    expect(back.attempt).toBe(0);
  });
});
