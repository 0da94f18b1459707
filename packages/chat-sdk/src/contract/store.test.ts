import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValueStore } from './store.js';

describe('ValueStore', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('keeps the snapshot identity until set changes it', () => {
    const value = { a: 1 };
    const store = new ValueStore(value);
    expect(store.getSnapshot()).toBe(value);
    expect(store.getSnapshot()).toBe(store.getSnapshot());
  });

  it('notifies only when the value is a different one (Object.is)', () => {
    const store = new ValueStore<number>(1);
    const listener = vi.fn();
    store.subscribe(listener);
    store.set(1);
    expect(listener).not.toHaveBeenCalled();
    store.set(2);
    store.update((n) => n + 1);
    expect(listener).toHaveBeenCalledTimes(2);
    expect(store.getSnapshot()).toBe(3);
    store.set(Number.NaN);
    store.set(Number.NaN);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('stops notifying after unsubscribe, and works when handed around unbound', () => {
    const store = new ValueStore('a');
    const { subscribe, getSnapshot } = store;
    const listener = vi.fn();
    const unsubscribe = subscribe(listener);
    expect(store.hasListeners()).toBe(true);
    store.set('b');
    unsubscribe();
    store.set('c');
    expect(listener).toHaveBeenCalledTimes(1);
    expect(getSnapshot()).toBe('c');
    expect(store.hasListeners()).toBe(false);
  });

  it('a throwing listener does not stop the others, and its error is rethrown later', async () => {
    const store = new ValueStore(0);
    const boom = new Error('boom');
    const caught: unknown[] = [];
    const onError = (error: unknown) => caught.push(error);
    process.on('uncaughtException', onError);
    const second = vi.fn();
    store.subscribe(() => {
      throw boom;
    });
    store.subscribe(second);
    try {
      store.set(1);
      expect(second).toHaveBeenCalledTimes(1);
      await new Promise((resolve) => setTimeout(resolve, 0));
    } finally {
      process.off('uncaughtException', onError);
    }
    expect(caught).toEqual([boom]);
  });
});
