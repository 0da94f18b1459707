import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { type ChatClient, isChatError } from '../src/index.js';
import { IDBFactory, client, email, server, someone } from './helpers.js';

/**
 * `close()` may come at any moment (a component unmounts, a test ends, a page goes): what
 * was in flight settles (resolves, or rejects with a ChatError to whoever awaits it) and
 * nothing inside the SDK leaks an unhandled rejection.
 */

let srv: RunningServer;
let friendId: string;
beforeAll(async () => {
  srv = await server();
  friendId = await someone(srv);
});
afterAll(() => srv.close());

/** Delays at which close() lands: at once, after a microtask, then across the whole login. */
const DELAYS = [-1, 0, 1, 3, 8, 20, 50];

function closeAfter(c: ChatClient, delay: number): Promise<void> {
  if (delay < 0) return c.close();
  if (delay === 0) return Promise.resolve().then(() => c.close());
  return new Promise((resolve) => setTimeout(resolve, delay)).then(() => c.close());
}

/** Runs `race` and collects any unhandled rejection meanwhile (and a little after). */
async function withoutLeaks(race: () => Promise<void>): Promise<unknown[]> {
  const leaked: unknown[] = [];
  const onUnhandled = (reason: unknown) => leaked.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    await race();
    await new Promise((r) => setTimeout(r, 100));
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return leaked;
}

/** The outcome of a call the app awaited: a value, or a ChatError; never anything else. */
async function settled(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'ok';
  } catch (error) {
    expect(isChatError(error), String(error)).toBe(true);
    return (error as { code: string }).code;
  }
}

describe('close() racing everything else', () => {
  it('against signUp and login: every call settles, nothing leaks', async () => {
    const leaked = await withoutLeaks(async () => {
      for (const delay of DELAYS) {
        const c = client(srv);
        const signUp = c.signUp({ email: email('race') });
        await Promise.all([settled(signUp), closeAfter(c, delay)]);

        const known = email('known');
        const setup = client(srv, { storage: 'memory' });
        await setup.signUp({ email: known });
        await setup.close();
        const d = client(srv);
        const login = d.login({ email: known });
        await Promise.all([settled(login), closeAfter(d, delay)]);
      }
    });
    expect(leaked).toEqual([]);
  });

  it('calls an app fired and forgot (void login() in a click handler) leak nothing when close() comes', async () => {
    const known = email('known');
    const setup = client(srv, { storage: 'memory' });
    await setup.signUp({ email: known });
    await setup.close();
    const leaked = await withoutLeaks(async () => {
      for (const delay of DELAYS) {
        const c = client(srv);
        void c.login({ email: known });
        void c.createRoom({ memberIds: [friendId] }).catch(() => undefined); // not signed in yet: its own error, handled
        void c.reconnect();
        void c.logout();
        await closeAfter(c, delay);
      }
    });
    expect(leaked).toEqual([]);
  });

  it('against a resume from storage, sends, retries and a logout', async () => {
    const idb = new IDBFactory();
    const first = client(srv, { indexedDB: idb });
    const adaEmail = email('ada');
    const ada = await first.signUp({ email: adaEmail });
    const room = await first.createRoom({ memberIds: [ada.id, friendId] });
    await first.close();

    const leaked = await withoutLeaks(async () => {
      for (const delay of DELAYS) {
        const c = client(srv, { indexedDB: idb });
        // A send made while resuming, and more once ready, then close mid-flight.
        c.send(room.id, { text: `early ${delay}` });
        const ready = settled(c.ready);
        const more = c.ready.then(() => {
          for (let i = 0; i < 3; i++) c.send(room.id, { text: `burst ${delay}/${i}` });
        });
        await Promise.all([ready, settled(more), settled(c.reconnect()), closeAfter(c, delay)]);
        expect(() => c.send(room.id, { text: 'after close' })).toThrowError(expect.objectContaining({ code: 'CLOSED' }));
      }
      const last = client(srv, { indexedDB: idb });
      await Promise.all([settled(last.logout()), closeAfter(last, 1)]);
    });
    expect(leaked).toEqual([]);

    // Nothing sent in those races was lost: a last client (signed in again: the race ended
    // with a logout, which keeps unsent messages) sends what is left, each once.
    const check = client(srv, { indexedDB: idb });
    await check.ready;
    if (!check.session.getSnapshot()) await check.login({ email: adaEmail });
    const texts = await new Promise<string[]>((resolve, reject) => {
      const store = check.messages(room.id);
      const timer = setTimeout(() => reject(new Error(JSON.stringify(store.getSnapshot().messages.map((m) => [m.text, m.status, m.error])))), 10_000);
      const look = () => {
        const { messages } = store.getSnapshot();
        if (messages.length > 0 && messages.every((m) => m.status === 'sent')) {
          clearTimeout(timer);
          resolve(messages.map((m) => m.text));
        }
      };
      store.subscribe(look);
      look();
    });
    await check.close();
    expect(texts.filter((t) => t.startsWith("early")).sort(), texts.join()).toEqual(DELAYS.map((d) => `early ${d}`).sort());
    expect(new Set(texts).size).toBe(texts.length);
    // A dozen clients resumed, raced and closed, then a wait of up to 10 s for the last one's
    // sends: longer than Vitest's 5 s default on a busy 2-core machine.
  }, 30_000);
});
