// The IDB classes as globals: idb checks requests with instanceof on them, and without them
// the SDK falls back to memory storage even when given a factory.
import 'fake-indexeddb/auto';
import { cleanup } from '@testing-library/react';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { IDBFactory } from 'fake-indexeddb';
import WebSocket from 'ws';
import { StrictMode, type ReactNode } from 'react';
import { startServer, type RunningServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { type ChatClient, type ChatClientOptions, type Store, type User, createChatClient } from '@chat/sdk';
import { ChatProvider } from '@chat/react';

export type { RunningServer };

/** The real reference server on a random loopback port, in memory. */
export function server(): Promise<RunningServer> {
  return startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS });
}

/**
 * One server for the test file: started before the first test, closed after the last;
 * after each test the rendered trees are unmounted and the clients closed.
 */
export function serverPerFile(): () => RunningServer {
  let srv: RunningServer | undefined;
  beforeAll(async () => {
    srv = await server();
  });
  afterEach(() => {
    cleanup();
    closeClients();
  });
  afterAll(() => srv?.close());
  return () => {
    if (!srv) throw new Error('the server is not started yet');
    return srv;
  };
}

const open: ChatClient[] = [];

/** A client over real `ws` sockets with fast retries; closed by `closeClients()`. */
export function client(srv: { wsUrl: string }, options: Partial<ChatClientOptions> = {}): ChatClient {
  const c = createChatClient({
    url: srv.wsUrl,
    // In process, whatever the test DOM grows: the hooks only see stores, the same in every mode.
    transport: 'websocket',
    WebSocket: WebSocket as never,
    indexedDB: new IDBFactory(),
    backoff: (attempt) => Math.min(20 * attempt, 200),
    requestTimeoutMs: 3000,
    draftDebounceMs: 40,
    ...options,
  });
  open.push(c);
  return c;
}

export function closeClients(): void {
  for (const c of open.splice(0)) c.close();
}

let counter = 0;
/** A fresh email per call so tests never collide on one server. */
export const email = (name = 'user') => `${name}-${Date.now().toString(36)}-${counter++}@example.com`;

/** A signed-up, connected client. */
export async function signedIn(srv: RunningServer, name: string): Promise<{ client: ChatClient; user: User }> {
  const c = client(srv);
  const user = await c.signUp({ email: email(name), name });
  await until(c.connection, (s) => s.status === 'open');
  return { client: c, user };
}

/** Resolves when `predicate` holds for the store's snapshot. */
export function until<T>(store: Store<T>, predicate: (value: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = store.getSnapshot();
      if (!predicate(value)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(value);
    };
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('timed out waiting on a store'));
    }, timeoutMs);
    const unsubscribe = store.subscribe(check);
    check();
  });
}

/** A render `wrapper` providing `client`, in StrictMode when asked. */
export function providing(client: ChatClient, strict = false) {
  return function Wrapper({ children }: { children?: ReactNode }) {
    const tree = <ChatProvider client={client}>{children}</ChatProvider>;
    return strict ? <StrictMode>{tree}</StrictMode> : tree;
  };
}

/** Two signed-in users and a room of theirs, known to both clients. */
export async function pair(srv: RunningServer, name = 'pair') {
  const [alice, bob] = await Promise.all([signedIn(srv, 'alice'), signedIn(srv, 'bob')]);
  const room = await alice.client.createRoom({ memberIds: [bob.user.id], name });
  await until(alice.client.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  await until(bob.client.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  return { alice, bob, room };
}
