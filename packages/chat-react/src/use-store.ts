import type { Store } from '@chat/sdk';
import { useMemo, useSyncExternalStore } from 'react';

const identity = <T>(value: T): T => value;

/**
 * The one subscription every hook uses: `useSyncExternalStore` over an SDK store.
 *
 * `serverSnapshot` is what server rendering and hydration show; a constant "nothing known
 * yet" value (like zustand's initial state), so the server's HTML and the first client
 * render always agree, then the live value follows.
 *
 * `select` picks part of the snapshot; the pick is memoised per snapshot, and kept when
 * `isEqual` says it did not change, so a component re-renders only when its part did.
 * Pass a stable `select` (module-level or memoised): a new one starts a new memo.
 */
export function useStore<T>(store: Store<T>, serverSnapshot: T): T;
export function useStore<T, S>(store: Store<T>, serverSnapshot: T, select: (value: T) => S, isEqual?: (a: S, b: S) => boolean): S;
export function useStore<T, S>(
  store: Store<T>,
  serverSnapshot: T,
  select: (value: T) => S = identity as (value: T) => S,
  isEqual: (a: S, b: S) => boolean = Object.is,
): S {
  const [subscribe, getSnapshot, getServerSnapshot] = useMemo(() => {
    const memo = (read: () => T): (() => S) => {
      let has = false;
      let input: T;
      let output: S;
      return () => {
        const next = read();
        if (has && Object.is(next, input)) return output;
        const picked = select(next);
        input = next;
        if (!has || !isEqual(output, picked)) output = picked;
        has = true;
        return output;
      };
    };
    return [
      // Wrapped, so a store whose methods are not bound still works.
      (listener: () => void) => store.subscribe(listener),
      memo(() => store.getSnapshot()),
      memo(() => serverSnapshot),
    ] as const;
  }, [store, serverSnapshot, select, isEqual]);
  return useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot);
}
