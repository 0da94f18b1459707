import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { ChatError, type ChatClient, type User, isChatError } from '../src/index.js';
import { KEEP_MS, UsersDirectory, type UsersInput } from '../src/client/users-directory.js';
import { client, email, server, until } from './helpers.js';

const user = (id: string): User => ({ id, email: `${id}@example.com`, name: id, createdAt: 1 });

/** A directory over a counted fake fetch, signed in as whoever `me.id` says. */
function fakeDirectory(answer: (input: UsersInput) => Promise<{ users: User[]; nextCursor: string | null }> = async () => ({ users: [user('u1')], nextCursor: null })) {
  const me = { id: 'alice' as string | null };
  const fetch = vi.fn(answer);
  return { me, fetch, directory: new UsersDirectory(fetch, () => me.id) };
}

/** Lets resolved promises run (fake timers leave microtasks alone). */
const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('UsersDirectory', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fetches nothing before the first subscribe, then once for every subscriber of the same input', async () => {
    const { fetch, directory } = fakeDirectory();
    const store = directory.store({ query: 'a', limit: 5 });
    expect(store.getSnapshot()).toEqual({ users: [], nextCursor: null, loading: true, error: null });
    expect(fetch).not.toHaveBeenCalled();

    // The same question by value (another object, other key order) is the same store.
    expect(directory.store({ limit: 5, query: 'a' })).toBe(store);
    const first = vi.fn();
    const second = vi.fn();
    store.subscribe(first);
    directory.store({ query: 'a', limit: 5 }).subscribe(second);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(fetch).toHaveBeenCalledWith({ query: 'a', limit: 5 });

    await vi.waitFor(() => expect(store.getSnapshot().loading).toBe(false));
    expect(store.getSnapshot()).toEqual({ users: [user('u1')], nextCursor: null, loading: false, error: null });
    expect(first).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledTimes(1);
    // A different question is another store and another request.
    directory.store({ query: 'b', limit: 5 }).subscribe(() => {});
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('keeps an answer 30 s after its last subscriber: reused before, fetched again after', async () => {
    vi.useFakeTimers();
    const { fetch, directory } = fakeDirectory();
    const input = { ids: ['u1'] };
    const store = directory.store(input);
    store.subscribe(() => {})();
    expect(fetch).toHaveBeenCalledTimes(1);
    await settle();
    expect(store.getSnapshot().users).toEqual([user('u1')]);

    // Unmount and remount within 30 s (StrictMode, a tab switch): no new request.
    vi.advanceTimersByTime(KEEP_MS - 1);
    expect(directory.store(input)).toBe(store);
    const unsubscribe = store.subscribe(() => {});
    expect(fetch).toHaveBeenCalledTimes(1);
    // A subscriber cancels the expiry: it stays as long as someone listens.
    vi.advanceTimersByTime(KEEP_MS * 3);
    expect(directory.store(input)).toBe(store);
    unsubscribe();

    vi.advanceTimersByTime(KEEP_MS);
    const again = directory.store(input);
    expect(again).not.toBe(store);
    expect(fetch).toHaveBeenCalledTimes(1);
    again.subscribe(() => {});
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it('answers per signed-in user, and reset forgets everything', () => {
    const { me, fetch, directory } = fakeDirectory();
    const asAlice = directory.store({ query: 'x' });
    me.id = 'bob';
    const asBob = directory.store({ query: 'x' });
    expect(asBob).not.toBe(asAlice);
    me.id = 'alice';
    expect(directory.store({ query: 'x' })).toBe(asAlice);
    directory.reset();
    expect(directory.store({ query: 'x' })).not.toBe(asAlice);
    expect(fetch).not.toHaveBeenCalled();
  });

  it('a failed request is an error state holding a ChatError', async () => {
    const { directory } = fakeDirectory(() => Promise.reject(new ChatError('RATE_LIMITED', 'slow down')));
    const store = directory.store({ query: 'x' });
    store.subscribe(() => {});
    await vi.waitFor(() => expect(store.getSnapshot().error).not.toBeNull());
    const { error, loading, users } = store.getSnapshot();
    expect(isChatError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'RATE_LIMITED' });
    expect({ loading, users }).toEqual({ loading: false, users: [] });
  });

  it('throws at once for bad input (naming the field) or when nobody is signed in, fetching nothing', () => {
    const { me, fetch, directory } = fakeDirectory();
    expect(() => directory.store({ limit: -1 })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining('limit') }));
    expect(() => directory.store({ ids: [] })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST', message: expect.stringContaining('ids') }));
    me.id = null;
    expect(() => directory.store({ query: 'x' })).toThrowError(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('client.directory (reference server)', () => {
  let srv: RunningServer | undefined;
  const clients: ChatClient[] = [];
  const open = () => {
    const c = client(srv!);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.close();
    await srv?.close();
  });

  it('two subscribers share one request; switching user gives fresh answers; a server error is a ChatError', async () => {
    srv = await server();
    const other = open();
    const bob = await other.signUp({ email: email('bob'), name: 'Bob' });
    const ada = await other.signUp({ email: email('ada'), name: 'Ada' });
    const c = open();
    await c.signUp({ email: email('alice'), name: 'Alice' });
    const users = vi.spyOn(c, 'users');

    const store = c.directory({ ids: [bob.id, ada.id] });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(users).not.toHaveBeenCalled();
    const unsubscribe = [store.subscribe(() => {}), c.directory({ ids: [bob.id, ada.id] }).subscribe(() => {})];
    const answered = await until(store, (s) => !s.loading, 5000, 'the directory answer');
    expect(answered.error).toBeNull();
    expect(answered.users.map((u) => u.name).sort()).toEqual(['Ada', 'Bob']);
    expect(users).toHaveBeenCalledTimes(1);
    for (const off of unsubscribe) off();
    // Kept: asking again at once is the same store, no request.
    expect(c.directory({ ids: [bob.id, ada.id] })).toBe(store);
    expect(users).toHaveBeenCalledTimes(1);

    // Another user signs in on this client: nothing of the last one is reused.
    await c.login({ email: ada.email });
    const asAda = c.directory({ ids: [bob.id, ada.id] });
    expect(asAda).not.toBe(store);
    asAda.subscribe(() => {});
    const fresh = await until(asAda, (s) => !s.loading, 5000, "Ada's answer");
    expect(fresh.users).toHaveLength(2);
    expect(users).toHaveBeenCalledTimes(2);

    const bad = c.directory({ query: 'a', cursor: 'not-a-cursor' });
    bad.subscribe(() => {});
    const failed = await until(bad, (s) => !s.loading, 5000, 'the error');
    expect(isChatError(failed.error)).toBe(true);
    expect(failed.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(() => c.directory({ limit: 0 })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });
});
