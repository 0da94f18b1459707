import { Emitter } from './emitter.js';

/**
 * The one reactive primitive of the SDK: `getSnapshot` + `subscribe`, the shape React's
 * `useSyncExternalStore` (and any other binding) consumes. Snapshots are immutable and
 * keep their identity until the data really changes, so a binding re-renders only then.
 */
export interface Store<T> {
  /** The current value; the same object on every call until the data changes. */
  getSnapshot(): T;
  /** Calls `listener` after each change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/**
 * Listener bookkeeping shared by every store (after TanStack Query's `Subscribable`), on
 * the SDK's one `Emitter` like every other listener set.
 */
export class Subscribable {
  private readonly changes = new Emitter<{ change: [] }>();

  // An arrow property, so `store.subscribe` can be handed around unbound (as React does).
  subscribe = (listener: () => void): (() => void) => {
    // One registration per listener, as a Set would keep: a second subscribe adds nothing.
    if (!this.changes.listeners('change').includes(listener)) this.changes.on('change', listener);
    this.onSubscribe();
    return () => {
      this.changes.off('change', listener);
      this.onUnsubscribe();
    };
  };

  hasListeners(): boolean {
    return this.changes.listenerCount('change') > 0;
  }

  /** Hooks for subclasses that start or stop work with their first or last listener. */
  protected onSubscribe(): void {}
  protected onUnsubscribe(): void {}

  /**
   * Calls every listener. One that throws must not starve the others, and the error must
   * not vanish: it is rethrown in a microtask, where it reaches the usual error reporting.
   */
  protected notify(): void {
    // `listeners` is a copy: a listener may unsubscribe itself (or others) while we iterate.
    for (const listener of this.changes.listeners('change')) {
      try {
        listener();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }
}

/** A store holding one immutable value, replaced with `set`. */
export class ValueStore<T> extends Subscribable implements Store<T> {
  private value: T;

  constructor(initial: T) {
    super();
    this.value = initial;
  }

  getSnapshot = (): T => this.value;

  /** Replaces the value; listeners hear of it only if it is a different value. */
  set(next: T): void {
    if (Object.is(next, this.value)) return;
    this.value = next;
    this.notify();
  }

  update(fn: (current: T) => T): void {
    this.set(fn(this.value));
  }
}
