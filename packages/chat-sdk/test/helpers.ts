// The IndexedDB globals, as a page has them; each client still gets its own
// `new IDBFactory()` so databases never leak between tests.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import WebSocket from 'ws';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { type ChatClient, type ChatClientOptions, createChatClient } from '../src/node.js';
import type { Store } from '../src/contract/store.js';

export { IDBFactory };

/** A real reference server on a random loopback port, in memory unless told otherwise. */
export function server(options: Parameters<typeof startServer>[0] = {}): Promise<RunningServer> {
  return startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS, ...options });
}

/** A client speaking to `srv` through real `ws` sockets, with fast timings for tests. */
export function client(srv: { wsUrl: string }, options: Partial<ChatClientOptions> = {}): ChatClient {
  return createChatClient({
    url: srv.wsUrl,
    WebSocket: WebSocket as never,
    indexedDB: new IDBFactory(),
    backoff: (attempt) => Math.min(20 * attempt, 200),
    requestTimeoutMs: 3000,
    ...options,
  });
}

/** Resolves when `predicate` holds for the store's snapshot (checked now and on every change). */
export function until<T>(store: Store<T>, predicate: (value: T) => boolean, timeoutMs = 10_000, what = 'condition'): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = store.getSnapshot();
      if (!predicate(value)) return false;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
      return true;
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out waiting for ${what}: ${JSON.stringify(store.getSnapshot(), replacer).slice(0, 500)}`));
    }, timeoutMs);
    const unsubscribe = store.subscribe(() => void check());
    check();
  });
}

const replacer = (_key: string, value: unknown) => (typeof value === 'object' && value && 'arrayBuffer' in value ? '[Blob]' : value);

/** Waits until `fn` stops throwing (polling), for conditions no store exposes. */
export { eventually } from '../../../test/support/browser.js';

let counter = 0;
/** A fresh email per call so tests never collide. */
export const email = (name = 'user') => `${name}-${Date.now().toString(36)}-${counter++}@example.com`;

/** Signs someone up from a throwaway client and returns their id (a room needs a member besides its creator). */
export async function someone(srv: { wsUrl: string }, name = 'friend'): Promise<string> {
  const c = client(srv, { storage: 'memory' });
  try {
    return (await c.signUp({ email: email(name) })).id;
  } finally {
    await c.close();
  }
}
