import { useCallback, useInsertionEffect, useRef } from 'react';

/**
 * A function whose identity never changes and that always calls the latest `fn`, so a
 * callback handed to children or effects never re-subscribes or re-runs anything.
 * The ref is updated at commit (an insertion effect runs before any layout effect), so a
 * render that React throws away never leaks into it. Call it from events and effects, not
 * during render.
 */
export function useStableCallback<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const ref = useRef(fn);
  useInsertionEffect(() => {
    ref.current = fn;
  });
  return useCallback((...args: A) => ref.current(...args), []);
}
