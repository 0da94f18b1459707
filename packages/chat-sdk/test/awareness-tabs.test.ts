import { MessageChannel } from 'node:worker_threads';
import WebSocket from 'ws';
import { afterEach, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { ChatHost } from '../src/host/chat-host.js';
import { exponentialBackoff } from '../src/host/backoff.js';
import { HostHub } from '../src/link/hub/host-hub.js';
import { type Connect, PortLink } from '../src/link/port-link.js';
import { isHostMessage } from '../src/link/messages.js';
import { isTabMessage } from '../src/link/is-tab-message.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { ChatStorage } from '../src/storage/types.js';
import type { HostConfig } from '../src/contract/host-options.js';
import type { HostEvent } from '../src/contract/host-api.js';
import type { ChatClient } from '../src/index.js';
import { client, email, eventually, server, until } from './helpers.js';

// Three tabs of one user on one host (as in a SharedWorker, over real MessageChannels):
// one typing stream and one presence at the server, however many tabs type or watch.

const GRACE_MS = 300;
const closers: Array<() => unknown> = [];
let srv: RunningServer;
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  await srv?.close();
});

const sent: Array<{ action: string; data: any }> = [];
class Counting extends WebSocket {
  override send(data: any, ...rest: any[]): void {
    const frame = JSON.parse(String(data));
    sent.push({ action: frame.action, data: frame.data });
    (super.send as (...args: any[]) => void)(data, ...rest);
  }
}

function hub(): HostHub {
  const h = new HostHub({
    openStorage: async () => new MemoryStorage() as ChatStorage,
    createHost: (config, storage) =>
      new ChatHost({
        url: config.url,
        WebSocket: Counting as never,
        fetch: () => Promise.reject(new Error('no uploads here')),
        storage,
        backoff: exponentialBackoff({ baseMs: 20, maxMs: 100 }),
      }),
  });
  closers.push(() => h.close());
  return h;
}

function tab(h: HostHub, cfg: HostConfig): PortLink & { events: HostEvent[] } {
  const connect: Connect = (receive) => {
    const { port1, port2 } = new MessageChannel();
    const end = h.connect({ post: (message) => port2.postMessage(message) });
    port2.on('message', (data: unknown) => isTabMessage(data) && end.receive(data));
    port1.on('message', (data: unknown) => isHostMessage(data) && receive(data));
    return {
      post: (message) => port1.postMessage(message),
      close: () => {
        port1.close();
        end.disconnect();
      },
    };
  };
  const link = new PortLink({
    connect,
    config: cfg,
    timings: { pingIntervalMs: 100, maxMissedPings: 3 },
    transport: 'shared-worker',
    fallback: () => {
      throw new Error('no fallback in this test');
    },
    target: undefined,
  }) as PortLink & { events: HostEvent[] };
  link.events = [];
  link.subscribe((event) => link.events.push(event));
  closers.push(() => link.close());
  return link;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('three tabs typing in one room send one typing stream; three tabs watching one user ask once; closing two tabs changes nothing', async () => {
  srv = await server({ presenceGraceMs: GRACE_MS });
  const h = hub();
  const cfg: HostConfig = { url: srv.wsUrl, storage: 'memory', hostGraceMs: 100, backoffOptions: { baseMs: 20, maxMs: 100 } };
  const tabs = [tab(h, cfg), tab(h, cfg), tab(h, cfg)];
  const ada = await tabs[0]!.call({ type: 'signUp', email: email('ada') });
  for (const t of tabs.slice(1)) expect((await t.call({ type: 'resume' }))?.user.id).toBe(ada.id);

  const bob: ChatClient = client(srv, { storage: 'memory' });
  closers.push(() => bob.close());
  const bobUser = await bob.signUp({ email: email('bob') });
  const room = await tabs[1]!.call({ type: 'createRoom', memberIds: [bobUser.id] });
  await until(bob.rooms, (rooms) => rooms.length === 1);
  const adaSeen = bob.presence([ada.id]);
  const changes: boolean[] = [];
  adaSeen.subscribe(() => changes.push(adaSeen.getSnapshot()[ada.id]!.online));
  await until(adaSeen, (p) => p[ada.id]?.online === true);

  // Presence: every tab watches bob; one get_presence goes out, every tab hears the answer.
  sent.length = 0;
  await Promise.all(tabs.map((t) => t.call({ type: 'watchPresence', key: bobUser.id })));
  await eventually(() => {
    for (const t of tabs) expect(t.events.some((e) => e.type === 'presence' && e.presence[bobUser.id]?.online === true)).toBe(true);
  });
  expect(sent.filter((f) => f.action === 'get_presence')).toHaveLength(1);

  // Typing: 3 tabs x 20 keystrokes over a second, one frame.
  const typing = bob.typing(room.id);
  for (let i = 0; i < 20; i++) {
    await Promise.all(tabs.map((t) => t.call({ type: 'startTyping', roomId: room.id })));
    await sleep(50);
  }
  await until(typing, (t) => t.userIds.includes(ada.id));
  expect(sent.filter((f) => f.action === 'typing')).toHaveLength(1);
  expect(srv.stats().perUser[ada.id]).toBe(1);

  // Two of the three tabs close: still one socket, no presence change at bob.
  await tabs[0]!.close();
  await tabs[1]!.close();
  await sleep(GRACE_MS * 2);
  expect(srv.stats().perUser[ada.id]).toBe(1);
  expect(changes.filter((online) => !online)).toEqual([]);
});
