import { MessageChannel, type MessagePort } from 'node:worker_threads';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { ChatHost } from '../host/chat-host.js';
import { exponentialBackoff } from '../host/backoff.js';
import { HostHub } from './hub/host-hub.js';
import { MemoryStorage } from '../storage/memory-storage.js';
import type { ChatStorage } from '../storage/types.js';
import type { HostConfig } from '../contract/host-options.js';
import { type HostMessage, LINK_PROTOCOL, SDK_VERSION, type TabMessage, isHostMessage } from './messages.js';
import { isTabMessage } from './is-tab-message.js';
import { type Connect, PortLink } from './port-link.js';
import type { HostEvent, HostLink } from '../contract/host-api.js';
import { createChatClient } from '../create-chat-client.js';
import { inTab } from '../in-tab.js';
import { isChatError } from '../protocol/index.js';

const servers: RunningServer[] = [];
const closers: Array<() => void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) close();
  for (const srv of servers.splice(0)) await srv.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
let counter = 0;
const email = (name: string) => `${name}-${Date.now().toString(36)}-${counter++}@example.com`;

async function server(): Promise<RunningServer> {
  const srv = await startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS });
  servers.push(srv);
  return srv;
}

/** A hub as a worker runs it, on real `ws` sockets and one memory storage per config. */
function hub(): HostHub {
  const h = new HostHub({
    openStorage: async () => new MemoryStorage() as ChatStorage,
    createHost: (config, storage) =>
      new ChatHost({
        url: config.url,
        WebSocket: WebSocket as never,
        fetch: () => Promise.reject(new Error('no uploads here')),
        storage,
        backoff: exponentialBackoff(config.backoffOptions ?? { baseMs: 20, maxMs: 100 }),
      }),
  });
  closers.push(() => h.close());
  return h;
}

/** Connects a tab to `h` through a real MessageChannel, as a SharedWorker's port would. */
function portTo(h: () => HostHub): Connect {
  return (receive) => {
    const { port1, port2 } = new MessageChannel();
    const tab = h().connect({ post: (message) => port2.postMessage(message) });
    port2.on('message', (data: unknown) => {
      if (isTabMessage(data)) tab.receive(data);
    });
    port1.on('message', (data: unknown) => {
      if (isHostMessage(data)) receive(data);
    });
    return {
      post: (message) => port1.postMessage(message),
      close: () => {
        port1.close();
        tab.disconnect();
      },
    };
  };
}

function config(srv: RunningServer, extra: Partial<HostConfig> = {}): HostConfig {
  return { url: srv.wsUrl, storage: 'memory', hostGraceMs: 100, backoffOptions: { baseMs: 20, maxMs: 100 }, ...extra };
}

function tab(connect: Connect, cfg: HostConfig, extra: Partial<ConstructorParameters<typeof PortLink>[0]> = {}): PortLink & { events: HostEvent[] } {
  const link = new PortLink({
    connect,
    config: cfg,
    timings: { pingIntervalMs: 40, maxMissedPings: 3 },
    transport: 'shared-worker',
    fallback: () => {
      throw new Error('no fallback in this test');
    },
    target: undefined,
    ...extra,
  }) as PortLink & { events: HostEvent[] };
  link.events = [];
  link.subscribe((event) => link.events.push(event));
  closers.push(() => link.close());
  return link;
}

async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('link protocol over MessageChannel', () => {
  it('hello/welcome carry versions and the bootId; a tab of another version runs in process', async () => {
    const srv = await server();
    const h = hub();
    const a = tab(portTo(() => h), config(srv));
    await a.ready;
    expect(a.transport).toBe('shared-worker');

    // A raw tab speaking another SDK version is told so and attached to nothing.
    const { port1, port2 } = new MessageChannel();
    const raw = h.connect({ post: (m) => port2.postMessage(m) });
    port2.on('message', (d: TabMessage) => raw.receive(d));
    const answer = new Promise<HostMessage>((resolve) => port1.once('message', resolve));
    port1.postMessage({ type: 'hello', tab: 'x', protocol: LINK_PROTOCOL, sdk: '0.0.0-old', config: config(srv), timings: { pingIntervalMs: 1000, maxMissedPings: 3 }, session: null });
    const welcome = await answer;
    expect(welcome).toMatchObject({ type: 'welcome', accepted: false, protocol: LINK_PROTOCOL, sdk: SDK_VERSION, bootId: h.bootId });
    port1.close();
    raw.disconnect();

    // A link that hears a welcome of another version falls back to in process and warns.
    const calls: string[] = [];
    const local: HostLink = {
      call: async (command) => {
        calls.push(command.type);
        return null as never;
      },
      subscribe: () => () => undefined,
      close: () => undefined,
    };
    const reasons: string[] = [];
    const fake: Connect = (receive) => ({
      post: (m) => {
        if (m.type === 'hello') queueMicrotask(() => receive({ type: 'welcome', bootId: 'b', protocol: LINK_PROTOCOL + 1, sdk: '9.9.9', accepted: true }));
      },
      close: () => undefined,
    });
    const b = tab(fake, config(srv), { fallback: () => ({ link: local, transport: 'in-tab' }), onFallback: (reason) => reasons.push(reason) });
    const pending = b.call({ type: 'snapshot' });
    await b.ready;
    await pending;
    expect(b.transport).toBe('in-tab');
    expect(calls).toEqual(['snapshot']);
    expect(reasons[0]).toMatch(/9\.9\.9/);
  });

  it('routes each reply to the tab that asked and every event to every tab of the user; another user gets a host of their own', async () => {
    const srv = await server();
    const h = hub();
    const cfg = config(srv);
    const a1 = tab(portTo(() => h), cfg);
    const a2 = tab(portTo(() => h), cfg);
    const b1 = tab(portTo(() => h), cfg);
    const alice = await a1.call({ type: 'signUp', email: email('alice') });
    // a2 joins alice's host through the stored session, as a new tab's start-up does.
    expect((await a2.call({ type: 'resume' }))?.user.id).toBe(alice.id);
    const bob = await b1.call({ type: 'signUp', email: email('bob') });
    await until(() => srv.stats().perUser[alice.id] === 1 && srv.stats().perUser[bob.id] === 1, 'one socket each');
    expect(h.hostCount()).toBe(2);

    const room = await a2.call({ type: 'createRoom', memberIds: [bob.id] });
    const row = { clientId: 'c-1', userId: alice.id, roomId: room.id, text: 'hi', image: null, uploadedImage: null, createdAt: Date.now(), order: 1, attempts: 0, lastError: null, status: 'pending' as const };
    await a1.call({ type: 'send', row });
    const sentTo = (link: { events: HostEvent[] }) =>
      link.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.clientId === 'c-1'));
    await until(() => sentTo(a1) && sentTo(a2) && sentTo(b1), 'the message everywhere');
    // The pending copy reached the other tab of the sender before it was sent.
    expect(a2.events.some((e) => e.type === 'outbox' && e.message.clientId === 'c-1')).toBe(true);
    expect(b1.events.some((e) => e.type === 'outbox')).toBe(false);
    expect(b1.events.some((e) => e.type === 'session' && e.session?.user.id === alice.id)).toBe(false);
    expect(srv.stats().perUser[alice.id]).toBe(1);
  });

  it('tabs with other settings (another server url, other timeouts) never share a host, even for one user', async () => {
    const srv = await server();
    const other = await server();
    const h = hub();
    const a = tab(portTo(() => h), config(srv));
    const alice = email('alice');
    const user = await a.call({ type: 'signUp', email: alice });
    const b = tab(portTo(() => h), config(srv, { requestTimeoutMs: 1234 }));
    expect((await b.call({ type: 'login', credentials: { email: alice } })).id).toBe(user.id);
    await until(() => srv.stats().perUser[user.id] === 2, 'a socket per settings');
    const c = tab(portTo(() => h), config(other));
    expect(await c.call({ type: 'resume' })).toBeNull(); // nothing stored for that server
    expect(h.hostCount()).toBe(2);
  });

  it('a tab that says bye keeps no host alive: the socket closes after the grace period; a crashed (silent) tab is dropped too', async () => {
    const srv = await server();
    const h = hub();
    const cfg = config(srv, { hostGraceMs: 150 });
    const a1 = tab(portTo(() => h), cfg);
    const alice = await a1.call({ type: 'signUp', email: email('alice') });
    await until(() => srv.stats().perUser[alice.id] === 1, 'a socket');

    // A tab that never answers pings: a raw channel that says hello with the session and then goes quiet.
    const { port1, port2 } = new MessageChannel();
    const silent = h.connect({ post: (m) => port2.postMessage(m) });
    port2.on('message', (d: TabMessage) => silent.receive(d));
    const { session } = await a1.call({ type: 'snapshot' });
    port1.postMessage({ type: 'hello', tab: 'crashed', protocol: LINK_PROTOCOL, sdk: SDK_VERSION, config: cfg, timings: { pingIntervalMs: 30, maxMissedPings: 2 }, session });
    await sleep(20);

    a1.close(); // says bye
    await sleep(100);
    expect(srv.stats().perUser[alice.id]).toBe(1); // grace, and the silent tab not dropped yet
    await until(() => (srv.stats().perUser[alice.id] ?? 0) === 0, 'the socket to close', 3000);
    expect(h.hostCount()).toBe(0);
    port1.close();
  });

  it('a new bootId (the host restarted) makes the tab hello again with its session and send again what it waited for', async () => {
    const srv = await server();
    let h = hub();
    const cfg = config(srv);
    const a = tab(portTo(() => h), cfg);
    const alice = await a.call({ type: 'signUp', email: email('alice') });
    const room = await a.call({ type: 'createRoom', memberIds: [] }).catch(() => null);
    expect(room).toBeNull(); // memberIds must hold someone: proves errors cross as ChatErrors
    const bob = await tab(portTo(() => h), cfg).call({ type: 'signUp', email: email('bob') });
    const created = { room: await a.call({ type: 'createRoom', memberIds: [bob.id] }) };
    const first = h.bootId;

    // The worker dies: nothing answers any more. A call made now waits.
    h.close();
    const row = { clientId: 'c-2', userId: alice.id, roomId: created.room.id, text: 'after restart', image: null, uploadedImage: null, createdAt: Date.now(), order: 2, attempts: 0, lastError: null, status: 'pending' as const };
    const sending = a.call({ type: 'send', row });
    h = hub(); // the next channel the link opens reaches the new worker
    await sending;
    expect(h.bootId).not.toBe(first);
    await until(() => a.events.some((e) => e.type === 'messages' && e.messages.some((m) => m.clientId === 'c-2')), 'the message sent');
    await until(() => srv.stats().perUser[alice.id] === 1, 'one socket for alice');
  });
});

describe('transport selection', () => {
  it("forcing a mode the environment cannot run fails with a ChatError; 'auto' with a WebSocket passed runs in process, given the host's code", () => {
    const url = 'ws://127.0.0.1:1/ws';
    for (const transport of ['shared-worker', 'leader'] as const) {
      let error: unknown;
      try {
        createChatClient({ url, transport, storage: 'memory' });
      } catch (e) {
        error = e;
      }
      expect(isChatError(error) && error.code === 'BAD_REQUEST' && error.message.includes(transport)).toBe(true);
    }
    // Without `inTab` (a browser build, which leaves the host's code to the worker) a WebSocket
    // passed in has nowhere to go: a clear error, not a worker that ignores it.
    expect(() => createChatClient({ url, WebSocket: WebSocket as never, storage: 'memory' })).toThrow(/inTab from '@chat\/sdk\/in-tab'/);
    expect(() => createChatClient({ url, storage: 'memory', inTab: true as never })).toThrow(/options\.inTab must be the inTab of '@chat\/sdk\/in-tab'/);
    const client = createChatClient({ url, WebSocket: WebSocket as never, storage: 'memory', inTab });
    expect(client.transport).toBe('in-tab');
    client.close();
  });
});
