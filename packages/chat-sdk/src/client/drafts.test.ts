import * as fakeIdb from 'fake-indexeddb';
import { IDBFactory } from 'fake-indexeddb';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { openStorage } from '../storage/open-storage.js';
import type { ChatStorage } from '../storage/types.js';
import { DraftSync, type DraftState } from './drafts.js';
import type { BroadcastChannelConstructor } from '../contract/platform.js';

beforeAll(() => {
  for (const name of ['IDBRequest', 'IDBOpenDBRequest', 'IDBDatabase', 'IDBTransaction', 'IDBObjectStore', 'IDBIndex', 'IDBCursor', 'IDBCursorWithValue', 'IDBKeyRange'] as const) {
    vi.stubGlobal(name, fakeIdb[name]);
  }
});

// Only the debounce is faked: fake-indexeddb and BroadcastChannel run on setImmediate and libuv.
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
});

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
  vi.useRealTimers();
});

async function tab(factory: IDBFactory, options: { channel?: boolean } = {}) {
  const storage = await openStorage({ indexedDB: factory });
  const drafts = new DraftSync(storage, {
    ...(options.channel === false ? {} : { BroadcastChannel: globalThis.BroadcastChannel as unknown as BroadcastChannelConstructor }),
    now: () => 1_000,
  });
  open.push(storage, drafts);
  return { storage, drafts };
}

/** Resolves with the first state a store reaches that passes `test`. */
function until(store: { getSnapshot(): DraftState; subscribe(l: () => void): () => void }, test: (s: DraftState) => boolean): Promise<DraftState> {
  return new Promise((resolve) => {
    if (test(store.getSnapshot())) return resolve(store.getSnapshot());
    const off = store.subscribe(() => {
      if (!test(store.getSnapshot())) return;
      off();
      resolve(store.getSnapshot());
    });
  });
}

describe('DraftSync', () => {
  it('shows a set draft at once and writes it once after the debounce', async () => {
    const { storage, drafts } = await tab(new IDBFactory(), { channel: false });
    const put = vi.spyOn(storage.drafts, 'put');
    drafts.set('u1', 'r1', { text: 'h' });
    drafts.set('u1', 'r1', { text: 'he' });
    vi.advanceTimersByTime(299);
    drafts.set('u1', 'r1', { text: 'hey' });
    expect(await drafts.get('u1', 'r1')).toEqual({ text: 'hey', image: null, updatedAt: 1_000 });
    expect(drafts.store('u1', 'r1').getSnapshot()).toMatchObject({ loaded: true, draft: { text: 'hey' } });
    vi.advanceTimersByTime(299);
    expect(put).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    await drafts.flush();
    expect(put).toHaveBeenCalledTimes(1);
    expect((await storage.drafts.get('u1', 'r1'))?.text).toBe('hey');
  });

  it('flush writes what is still waiting on the debounce', async () => {
    const { storage, drafts } = await tab(new IDBFactory(), { channel: false });
    drafts.set('u1', 'r1', { text: 'unsaved' });
    drafts.set('u1', 'r2', { text: 'also' });
    await drafts.flush();
    expect((await storage.drafts.get('u1', 'r1'))?.text).toBe('unsaved');
    expect((await storage.drafts.get('u1', 'r2'))?.text).toBe('also');
  });

  it('restores a stored draft with its image, and says when it is loaded', async () => {
    const factory = new IDBFactory();
    const image = new Blob([new Uint8Array([1, 2, 3])], { type: 'image/png' });
    const first = await tab(factory, { channel: false });
    first.drafts.set('u1', 'r1', { text: 'kept', image });
    await first.drafts.close();

    const second = await tab(factory, { channel: false });
    const store = second.drafts.store('u1', 'r1');
    expect(store.getSnapshot()).toEqual({ loaded: false, draft: null });
    const state = await until(store, (s) => s.loaded);
    expect(state.draft?.text).toBe('kept');
    expect([...new Uint8Array(await (state.draft?.image as Blob).arrayBuffer())]).toEqual([1, 2, 3]);
    expect(await second.drafts.get('u1', 'r9')).toBeNull();
  });

  it('an empty draft or clear removes the stored row and cancels a pending write', async () => {
    const { storage, drafts } = await tab(new IDBFactory(), { channel: false });
    drafts.set('u1', 'r1', { text: 'x' });
    await drafts.flush();
    drafts.set('u1', 'r1', { text: '' });
    await drafts.flush();
    expect(await storage.drafts.get('u1', 'r1')).toBeUndefined();

    drafts.set('u1', 'r1', { text: 'about to send' });
    await drafts.clear('u1', 'r1');
    vi.advanceTimersByTime(1_000);
    await drafts.flush();
    expect(await storage.drafts.get('u1', 'r1')).toBeUndefined();
    expect(await drafts.get('u1', 'r1')).toBeNull();
  });

  it('does not notify or write when the draft did not change', async () => {
    const { storage, drafts } = await tab(new IDBFactory(), { channel: false });
    drafts.set('u1', 'r1', { text: 'same' });
    await drafts.flush();
    const put = vi.spyOn(storage.drafts, 'put');
    const listener = vi.fn();
    drafts.subscribe('u1', 'r1', listener);
    drafts.set('u1', 'r1', { text: 'same', image: null });
    await drafts.flush();
    expect(listener).not.toHaveBeenCalled();
    expect(put).not.toHaveBeenCalled();
  });

  it('keeps tabs in step over BroadcastChannel', async () => {
    const factory = new IDBFactory();
    const a = await tab(factory);
    const b = await tab(factory);
    const seen = b.drafts.store('u1', 'r1');
    await until(seen, (s) => s.loaded);

    a.drafts.set('u1', 'r1', { text: 'typed in A', image: new Blob(['img'], { type: 'image/gif' }) });
    vi.advanceTimersByTime(300);
    const state = await until(seen, (s) => s.draft?.text === 'typed in A');
    expect(await state.draft?.image?.text()).toBe('img');

    await a.drafts.clear('u1', 'r1');
    await until(seen, (s) => s.draft === null);
  });

  it('a local edit not yet written is not overwritten by another tab', async () => {
    const factory = new IDBFactory();
    const a = await tab(factory);
    const b = await tab(factory);
    const seen = b.drafts.store('u1', 'r1');
    await until(seen, (s) => s.loaded);
    b.drafts.set('u1', 'r1', { text: 'mine, still typing' });
    const otherRoom = b.drafts.store('u1', 'r2');
    await until(otherRoom, (s) => s.loaded);

    a.drafts.set('u1', 'r1', { text: 'from A' });
    a.drafts.set('u1', 'r2', { text: 'r2 from A' });
    await a.drafts.flush();
    // The r2 announcement comes after r1's: once B shows it, B has handled both.
    await until(otherRoom, (s) => s.draft?.text === 'r2 from A');
    expect(seen.getSnapshot().draft?.text).toBe('mine, still typing');
  });

  it('without a BroadcastChannel, tabs do not hear of each other', async () => {
    const factory = new IDBFactory();
    const a = await tab(factory, { channel: false });
    const b = await tab(factory, { channel: false });
    const seen = b.drafts.store('u1', 'r1');
    await until(seen, (s) => s.loaded);
    a.drafts.set('u1', 'r1', { text: 'quiet' });
    await a.drafts.flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen.getSnapshot().draft).toBeNull();
    expect((await b.storage.drafts.get('u1', 'r1'))?.text).toBe('quiet');
  });

  it('works over a storage that is still opening, and refuses changes once closed', async () => {
    let resolve!: (s: ChatStorage) => void;
    const pending = new Promise<ChatStorage>((r) => (resolve = r));
    const drafts = new DraftSync(pending);
    drafts.set('u1', 'r1', { text: 'early' });
    const storage = await openStorage({ kind: 'memory' });
    resolve(storage);
    await drafts.close();
    expect((await storage.drafts.get('u1', 'r1'))?.text).toBe('early');
    expect(() => drafts.set('u1', 'r1', { text: 'late' })).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('reports a failed write and keeps the draft in memory', async () => {
    const storage = await openStorage({ kind: 'memory' });
    vi.spyOn(storage.drafts, 'put').mockRejectedValue(new Error('disk full'));
    const onError = vi.fn();
    const drafts = new DraftSync(storage, { onError });
    drafts.set('u1', 'r1', { text: 'x' });
    await drafts.flush();
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: 'disk full' }));
    expect((await drafts.get('u1', 'r1'))?.text).toBe('x');
  });
});
