import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatChange, ChatClient, ChatMessage, Message, RoomMessagesSnapshot } from '../src/index.js';
import { ChatHost } from '../src/host/chat-host.js';
import { exponentialBackoff } from '../src/host/backoff.js';
import { HostHub } from '../src/link/hub/host-hub.js';
import { type Connect, PortLink } from '../src/link/port-link.js';
import { isHostMessage } from '../src/link/messages.js';
import { isTabMessage } from '../src/link/is-tab-message.js';
import { MemoryStorage } from '../src/storage/memory-storage.js';
import type { ChatStorage } from '../src/storage/types.js';
import type { HostConfig } from '../src/contract/host-options.js';
import { LinkedChatClient } from '../src/client/chat-client.js';
import { createDraftsApi } from '../src/client/drafts-api.js';
import { ValueStore } from '../src/contract/store.js';
import { IDBFactory, client, email, server, until } from './helpers.js';

// Message changes (protocol 10.5) end to end: a real reference server over real sockets,
// IndexedDB through fake-indexeddb. Every wait is on a store or an event, never on time.

const servers: RunningServer[] = [];
const closers: Array<() => unknown> = [];
const dirs: string[] = [];

async function start(options: Parameters<typeof server>[0] = {}) {
  const srv = await server(options);
  servers.push(srv);
  return srv;
}
async function restart(srv: RunningServer, db: string): Promise<RunningServer> {
  await srv.close();
  servers.splice(servers.indexOf(srv), 1);
  return start({ db, port: srv.port });
}
function open(...args: Parameters<typeof client>): ChatClient {
  const c = client(...args);
  closers.push(() => c.close());
  return c;
}
async function reload(c: ChatClient, ...args: Parameters<typeof client>): Promise<ChatClient> {
  await c.close();
  const again = open(...args);
  await again.ready;
  return again;
}
function tempDb(): string {
  const dir = mkdtempSync(join(tmpdir(), 'chat-changes-test-'));
  dirs.push(dir);
  return join(dir, 'chat.sqlite');
}

afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
  for (const s of servers.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * A WebSocket class whose connections one can cut: `cut()` ends the open ones and makes new
 * ones fail (the client is offline while the server and everyone else go on); `restore()`.
 */
function cuttable() {
  const state = { down: false, open: new Set<WebSocket>() };
  class Cuttable extends WebSocket {
    constructor(url: string, ...rest: any[]) {
      super(state.down ? 'ws://127.0.0.1:9/' : url, ...rest);
      state.open.add(this);
      this.on('close', () => state.open.delete(this));
      this.on('error', () => undefined);
    }
  }
  return {
    WebSocket: Cuttable as never,
    cut() {
      state.down = true;
      for (const ws of state.open) ws.terminate();
    },
    restore() {
      state.down = false;
    },
  };
}

/** Ann and Bob in one room, each client with its own options. */
async function pair(srv: RunningServer, annOptions: Parameters<typeof client>[1] = {}, bobOptions: Parameters<typeof client>[1] = {}) {
  const annEmail = email('ann');
  const ann = open(srv, annOptions);
  const annUser = await ann.signUp({ email: annEmail });
  const bobEmail = email('bob');
  const bob = open(srv, bobOptions);
  const bobUser = await bob.signUp({ email: bobEmail });
  const room = await ann.createRoom({ memberIds: [bobUser.id] });
  await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  return { ann, annUser, annEmail, bob, bobUser, bobEmail, room };
}

const byText = (s: RoomMessagesSnapshot, text: string) => s.messages.find((m) => m.text === text);
const settled = (s: RoomMessagesSnapshot) => s.messages.every((m) => m.status === 'sent' && !m.changes?.length);
/** What a message looks like for comparing views: text, tombstone, reactions. */
const view = (m: ChatMessage | Message) => ({
  id: m.id,
  text: m.text,
  deleted: m.deletedAt !== undefined,
  reactions: Array.isArray(m.reactions)
    ? Object.fromEntries(m.reactions.map((r) => [r.emoji, [...r.userIds]]))
    : (m.reactions ?? {}),
});
async function sendAll(c: ChatClient, roomId: string, texts: string[]) {
  // The room's newest page first, so what is sent joins the cached history.
  await until(c.messages(roomId), (s) => !s.loading);
  for (const text of texts) c.send(roomId, { text });
  return until(c.messages(roomId), (s) => texts.every((t) => byText(s, t)?.status === 'sent'), 10_000, 'sent');
}
/** The server's messages of a room, as a fresh client reads them. */
async function serverView(srv: RunningServer, userEmail: string, roomId: string) {
  const probe = open(srv, { storage: 'memory' });
  await probe.login({ email: userEmail });
  const s = await until(probe.messages(roomId), (x) => !x.loading && x.messages.length > 0);
  return s.messages.map(view);
}

describe('message changes against the reference server', () => {
  it('edit, react, unreact and delete show at once as pending, then sent; the other member sees each; other rows keep their identity', async () => {
    const srv = await start();
    const { ann, annUser, annEmail, bob, bobUser, room } = await pair(srv);
    const store = ann.messages(room.id);
    await sendAll(ann, room.id, ['first', 'second']);
    const bobStore = bob.messages(room.id);
    await until(bobStore, (s) => s.messages.length === 2);
    const before = store.getSnapshot().messages;

    const edit = ann.edit(room.id, before[0]!.clientId, { text: 'first, edited' });
    // Synchronous: the store shows it before any frame left.
    let shown = store.getSnapshot().messages[0]!;
    expect(shown).toMatchObject({ text: 'first, edited', changes: [{ clientChangeId: edit.clientChangeId, status: 'pending' }] });
    expect(shown.editedAt).toBeTypeOf('number');
    expect(store.getSnapshot().messages[1]).toBe(before[1]);

    ann.react(room.id, before[1]!.id!, '👍');
    shown = store.getSnapshot().messages[1]!;
    expect(shown.reactions).toEqual([{ emoji: '👍', userIds: [annUser.id], mine: true, pending: true }]);

    await until(store, (s) => settled(s) && s.messages[1]!.reactions?.[0]?.pending !== true, 10_000, 'sent');
    const after = store.getSnapshot().messages;
    expect(after[0]).toMatchObject({ text: 'first, edited', rev: 1 });
    expect(after[1]!.reactions).toEqual([{ emoji: '👍', userIds: [annUser.id], mine: true }]);

    // Bob sees both, and his own reaction joins Ann's.
    await until(bobStore, (s) => s.messages[0]!.text === 'first, edited' && s.messages[1]!.reactions?.length === 1);
    expect(bobStore.getSnapshot().messages[1]!.reactions![0]).toMatchObject({ mine: false });
    bob.react(room.id, after[1]!.id!, '👍');
    await until(store, (s) => s.messages[1]!.reactions?.[0]?.userIds.length === 2);
    expect(store.getSnapshot().messages[0]).toBe(after[0]); // the other row kept its identity

    ann.unreact(room.id, after[1]!.clientId, '👍');
    expect(store.getSnapshot().messages[1]!.reactions).toEqual([{ emoji: '👍', userIds: [bobUser.id], mine: false, pending: true }]);
    ann.delete(room.id, after[0]!.clientId);
    expect(store.getSnapshot().messages[0]).toMatchObject({ text: '', image: null });
    expect(store.getSnapshot().messages[0]!.deletedAt).toBeTypeOf('number');
    await until(store, settled);
    await until(bobStore, (s) => s.messages[0]!.deletedAt !== undefined && s.messages[1]!.reactions?.[0]?.userIds.length === 1);
    expect(bobStore.getSnapshot().messages[0]).toMatchObject({ text: '', seq: 1 });
    expect(await serverView(srv, annEmail, room.id)).toEqual(store.getSnapshot().messages.map(view));
  });

  it('bad input is refused at once with the code the server would answer', async () => {
    const srv = await start();
    const { ann, bob, room } = await pair(srv);
    await sendAll(ann, room.id, ['mine']);
    const bobStore = bob.messages(room.id);
    const theirs = (await until(bobStore, (s) => s.messages.length === 1)).messages[0]!;
    const mine = ann.messages(room.id).getSnapshot().messages[0]!;
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as { code: string }).code;
      }
      return 'none';
    };
    expect(code(() => ann.react(room.id, mine.clientId, 'a'))).toBe('BAD_REQUEST');
    expect(code(() => ann.react(room.id, mine.clientId, '👍 '))).toBe('BAD_REQUEST');
    expect(code(() => ann.edit(room.id, mine.clientId, { text: 'x'.repeat(4001) }))).toBe('TOO_LARGE');
    expect(code(() => ann.edit(room.id, mine.clientId, { text: '  ' }))).toBe('BAD_REQUEST');
    expect(code(() => ann.edit(room.id, 'nope', { text: 'x' }))).toBe('NOT_FOUND');
    expect(code(() => ann.edit('r_nope', mine.clientId, { text: 'x' }))).toBe('NOT_FOUND');
    expect(code(() => bob.edit(room.id, theirs.id!, { text: 'x' }))).toBe('FORBIDDEN');
    expect(code(() => bob.delete(room.id, theirs.id!))).toBe('FORBIDDEN');
    expect(code(() => ann.send(room.id, { text: 'reply', replyTo: 'nope' }))).toBe('NOT_FOUND');
    expect(ann.messages(room.id).getSnapshot().messages).toHaveLength(1);
  });

  it('a change to a message still pending waits behind it in the outbox, and both go out in order', async () => {
    const srv = await start();
    const net = cuttable();
    const { ann, bob, room } = await pair(srv, { WebSocket: net.WebSocket });
    const store = ann.messages(room.id);
    await until(store, (s) => !s.loading);
    net.cut();
    await until(ann.connection, (c) => c.status === 'reconnecting');
    const m = ann.send(room.id, { text: 'draft' });
    ann.edit(room.id, m.clientId, { text: 'final' });
    ann.react(room.id, m.clientId, '🎉');
    const local = store.getSnapshot().messages[0]!;
    expect(local).toMatchObject({ status: 'pending', text: 'final', reactions: [{ emoji: '🎉', mine: true, pending: true }] });
    expect(local.changes?.map((c) => c.op.kind)).toEqual(['edit', 'react']);

    net.restore();
    await ann.reconnect();
    const done = await until(store, settled, 10_000, 'settled');
    expect(done.messages[0]).toMatchObject({ text: 'final', rev: 2, reactions: [{ emoji: '🎉', mine: true }] });
    const bobStore = bob.messages(room.id);
    await until(bobStore, (s) => s.messages[0]?.text === 'final' && s.messages[0].reactions?.length === 1);
    expect(ann.rooms.getSnapshot().find((r) => r.id === room.id)?.lastMessage?.text).toBe('final');
  });

  it('edits made offline survive a reload while still offline, and go out once, in order, when the server is back (also for a message sent in an earlier session)', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const { ann, annEmail, bob, room } = await pair(srv, { indexedDB: idb });
    await sendAll(ann, room.id, ['old']);
    const old = ann.messages(room.id).getSnapshot().messages[0]!;

    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    await until(ann.connection, (c) => c.status === 'reconnecting');
    ann.edit(room.id, old.clientId, { text: 'old, edited offline' });
    const fresh = ann.send(room.id, { text: 'new' });
    ann.edit(room.id, fresh.clientId, { text: 'new, edited offline' });
    ann.react(room.id, old.id!, '👍');

    // A reload while offline: a new client on the same IndexedDB shows all of it pending.
    const again = await reload(ann, { wsUrl: srv.wsUrl }, { indexedDB: idb });
    const store = again.messages(room.id);
    const shown = await until(store, (s) => s.messages.length === 2 && s.messages.every((m) => m.changes?.length), 10_000, 'pending after reload');
    expect(shown.messages.map((m) => m.text)).toEqual(['old, edited offline', 'new, edited offline']);
    expect(shown.messages[0]!.reactions?.[0]).toMatchObject({ emoji: '👍', mine: true, pending: true });

    srv = await start({ db, port: srv.port });
    const done = await until(store, (s) => s.messages.length === 2 && settled(s), 15_000, 'settled after the server came back');
    expect(done.messages.map((m) => [m.text, m.rev])).toEqual([
      ['old, edited offline', 3], // its edit was rev 1, the reaction after the other edit rev 3
      ['new, edited offline', 2],
    ]);
    const serverSide = await serverView(srv, annEmail, room.id);
    expect(serverSide).toEqual(done.messages.map(view));
    // Applied once each: the room's counter is exactly the three changes.
    await until(bob.rooms, (rooms) => rooms.find((r) => r.id === room.id)?.lastRev === 3);
  }, 30_000);

  it('a client offline while others edit, delete and react converges after a server restart, reloaded or not', async () => {
    const db = tempDb();
    let srv = await start({ db });
    const idb = new IDBFactory();
    const net = cuttable();
    const { ann, annEmail, bob, bobEmail, room } = await pair(srv, {}, { indexedDB: idb });
    await sendAll(ann, room.id, ['a', 'b', 'c', 'd']);
    const bobStore = bob.messages(room.id);
    await until(bobStore, (s) => s.messages.length === 4);
    const ids = ann.messages(room.id).getSnapshot().messages.map((m) => m.id!);
    // A second device of Bob's, kept open but cut off.
    const phone = open(srv, { storage: 'memory', WebSocket: net.WebSocket });
    await phone.login({ email: bobEmail });
    const phoneStore = phone.messages(room.id);
    await until(phoneStore, (s) => s.messages.length === 4);
    await bob.close(); // Bob's laptop goes away with its cache
    net.cut();

    ann.edit(room.id, ids[0]!, { text: 'a2' });
    ann.edit(room.id, ids[0]!, { text: 'a3' });
    ann.delete(room.id, ids[1]!);
    ann.react(room.id, ids[2]!, '👍');
    ann.react(room.id, ids[2]!, '🎉');
    ann.unreact(room.id, ids[2]!, '👍');
    await until(ann.messages(room.id), settled);

    srv = await restart(srv, db);
    const expected = await serverView(srv, annEmail, room.id);
    expect(expected.map((m) => m.text)).toEqual(['a3', '', 'c', 'd']);

    const laptop = open(srv, { indexedDB: idb });
    await laptop.ready;
    const laptopStore = laptop.messages(room.id);
    await until(laptopStore, (s) => JSON.stringify(s.messages.map(view)) === JSON.stringify(expected), 15_000, 'laptop converged');
    net.restore();
    await phone.reconnect();
    await until(phoneStore, (s) => JSON.stringify(s.messages.map(view)) === JSON.stringify(expected), 15_000, 'phone converged');
    // The laptop's cache holds the converged copies too: a reload offline shows them.
    await srv.close();
    servers.splice(servers.indexOf(srv), 1);
    const offline = await reload(laptop, { wsUrl: srv.wsUrl }, { indexedDB: idb });
    await until(offline.messages(room.id), (s) => JSON.stringify(s.messages.map(view)) === JSON.stringify(expected), 10_000, 'cache converged');
  }, 40_000);

  it('an edit refused with CONFLICT (deleted on another device meanwhile) fails, rolls back to the server\'s tombstone, and can be retried or discarded', async () => {
    const srv = await start();
    const net = cuttable();
    const { ann, annEmail, room } = await pair(srv, { WebSocket: net.WebSocket });
    await sendAll(ann, room.id, ['oops']);
    const store = ann.messages(room.id);
    const target = store.getSnapshot().messages[0]!;
    const phone = open(srv, { storage: 'memory' });
    await phone.login({ email: annEmail });
    await until(phone.messages(room.id), (s) => s.messages.length === 1);

    net.cut();
    await until(ann.connection, (c) => c.status === 'reconnecting');
    phone.delete(room.id, target.id!);
    await until(phone.messages(room.id), settled);
    const edit = ann.edit(room.id, target.clientId, { text: 'fixed' });
    expect(store.getSnapshot().messages[0]!.text).toBe('fixed');

    const failures: ChatChange[] = [];
    ann.on('changeFailed', (c) => failures.push(c));
    net.restore();
    await ann.reconnect();
    const rolled = await until(store, (s) => s.messages[0]!.deletedAt !== undefined && s.messages[0]!.changes?.[0]?.status === 'failed', 10_000, 'rolled back');
    expect(rolled.messages[0]).toMatchObject({ text: '', changes: [{ clientChangeId: edit.clientChangeId, status: 'failed', error: { code: 'CONFLICT' } }] });
    expect(failures.map((f) => f.error?.code)).toEqual(['CONFLICT']);

    // Retry: pending again, refused again (the event tells it).
    const again = new Promise<ChatChange>((resolve) => ann.once('changeFailed', resolve));
    await ann.retry(edit.clientChangeId);
    expect((await again).error?.code).toBe('CONFLICT');
    await ann.discard(edit.clientChangeId);
    const clean = await until(store, (s) => !s.messages[0]!.changes);
    expect(clean.messages[0]!.text).toBe('');
  });

  it('a message that fails for good takes its changes down with it; retrying it sends them too', async () => {
    const srv = await start();
    let refuse = true;
    const png = Uint8Array.from(atob('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=='), (ch) => ch.charCodeAt(0));
    const fetchOnce = (async (...args: Parameters<typeof fetch>) => {
      if (refuse) {
        refuse = false;
        return new Response('no', { status: 403 });
      }
      return fetch(...args);
    }) as typeof fetch;
    const { ann, room } = await pair(srv, { fetch: fetchOnce });
    const store = ann.messages(room.id);
    await until(store, (s) => !s.loading);
    const failedMessages: ChatMessage[] = [];
    const failedChanges: ChatChange[] = [];
    ann.on('failed', (m) => failedMessages.push(m));
    ann.on('changeFailed', (c) => failedChanges.push(c));
    const m = ann.send(room.id, { text: 'look', image: new Blob([png], { type: 'image/png' }) });
    const change = ann.react(room.id, m.clientId, '👀');
    await until(store, (s) => s.messages[0]?.status === 'failed' && s.messages[0].changes?.[0]?.status === 'failed', 10_000, 'both failed');
    expect(store.getSnapshot().messages[0]!.reactions).toBeUndefined(); // a failed change does not show
    expect(failedChanges.map((c) => [c.clientChangeId, c.error?.code])).toEqual([[change.clientChangeId, 'NOT_FOUND']]);

    await ann.retry(m.clientId);
    const done = await until(store, settled, 10_000, 'sent with its reaction');
    expect(done.messages[0]).toMatchObject({ text: 'look', rev: 1, reactions: [{ emoji: '👀', mine: true }] });
  });

  it('replies quote their parent at once (even an unsent one), and the quote follows the parent\'s edits and delete', async () => {
    const srv = await start();
    const { ann, bob, room } = await pair(srv);
    const store = ann.messages(room.id);
    await until(store, (s) => !s.loading);
    const parent = ann.send(room.id, { text: 'question?' });
    const reply = ann.send(room.id, { text: 'answer', replyTo: parent.clientId });
    expect(store.getSnapshot().messages[1]!.replyTo).toMatchObject({ text: 'question?', senderId: parent.senderId });
    const sent = await until(store, settled);
    const parentId = sent.messages[0]!.id!;
    expect(sent.messages[1]).toMatchObject({ clientId: reply.clientId, replyTo: { id: parentId, text: 'question?' } });

    const bobStore = bob.messages(room.id);
    await until(bobStore, (s) => s.messages[1]?.replyTo?.id === parentId);
    const bobReply = bob.send(room.id, { text: 'me too', replyTo: parentId });
    expect(bobReply.replyTo).toMatchObject({ id: parentId, text: 'question?' });

    ann.edit(room.id, parent.clientId, { text: 'question, reworded?' });
    // The quote follows the parent in the store at once.
    expect(store.getSnapshot().messages[1]!.replyTo).toMatchObject({ id: parentId, text: 'question, reworded?' });
    await until(bobStore, (s) => s.messages.filter((m) => m.replyTo?.text === 'question, reworded?').length === 2, 10_000, 'bob quotes follow');
    ann.delete(room.id, parentId);
    await until(bobStore, (s) => s.messages.filter((m) => m.replyTo?.deleted === true && m.replyTo.text === '').length === 2, 10_000, 'quotes deleted');
  });
});

describe('many tabs on one host', () => {
  function hub(srv: RunningServer): HostHub {
    const h = new HostHub({
      openStorage: async () => new MemoryStorage() as ChatStorage,
      createHost: (config, storage) =>
        new ChatHost({
          url: config.url,
          WebSocket: WebSocket as never,
          fetch: () => Promise.reject(new Error('no uploads here')),
          storage,
          backoff: exponentialBackoff({ baseMs: 20, maxMs: 100 }),
        }),
    });
    closers.push(() => h.close());
    return h;
  }
  function tab(h: HostHub, cfg: HostConfig): ChatClient {
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
    });
    const c = new LinkedChatClient({
      link,
      transport: new ValueStore('shared-worker' as const),
      ready: link.ready,
      drafts: (session) => createDraftsApi(Promise.resolve(new MemoryStorage()), session, {}),
    });
    closers.push(() => c.close());
    return c;
  }

  it('three tabs see one change once each; a reaction in one re-renders that row only, in every tab', async () => {
    const srv = await start();
    const h = hub(srv);
    const cfg: HostConfig = { url: srv.wsUrl, storage: 'memory', hostGraceMs: 100, backoffOptions: { baseMs: 20, maxMs: 100 } };
    const first = tab(h, cfg);
    await first.signUp({ email: email('ann') });
    // Tabs opened later resume the user's host.
    const tabs = [first, tab(h, cfg), tab(h, cfg)];
    for (const t of tabs.slice(1)) await until(t.session, (s) => s !== null, 5000, 'session in every tab');
    const bob = open(srv, { storage: 'memory' });
    const bobUser = await bob.signUp({ email: email('bob') });
    const room = await tabs[0]!.createRoom({ memberIds: [bobUser.id] });
    await until(bob.rooms, (rooms) => rooms.length === 1);
    await sendAll(bob, room.id, ['one', 'two', 'three']);
    const stores = tabs.map((t) => t.messages(room.id));
    for (const s of stores) await until(s, (x) => x.messages.length === 3, 5000, 'three messages in every tab');
    const updates = tabs.map(() => 0);
    const heard = tabs.map((t, i) => new Promise<void>((resolve) => t.on('updated', () => {
      updates[i]!++;
      resolve();
    })));
    const before = stores.map((s) => s.getSnapshot().messages);

    tabs[1]!.react(room.id, before[1]![1]!.id!, '❤️');
    for (const s of stores) await until(s, (x) => x.messages[1]!.reactions?.[0]?.pending !== true && x.messages[1]!.rev === 1 && !x.messages[1]!.changes);
    stores.forEach((s, i) => {
      const now = s.getSnapshot().messages;
      expect(now[0]).toBe(before[i]![0]);
      expect(now[2]).toBe(before[i]![2]);
      expect(now[1]!.reactions).toMatchObject([{ emoji: '❤️', mine: true }]);
    });
    await Promise.all(heard);
    await until(bob.messages(room.id), (x) => x.messages[1]!.reactions?.length === 1);
    // The reply and the event of the one change are one update in each tab.
    expect(updates).toEqual([1, 1, 1]);
  }, 20_000);
});
