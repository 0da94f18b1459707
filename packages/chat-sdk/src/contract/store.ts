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

/** Listener bookkeeping shared by every store (after TanStack Query's `Subscribable`). */
export class Subscribable {
  protected readonly listeners = new Set<() => void>();

  // An arrow property, so `store.subscribe` can be handed around unbound (as React does).
  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    this.onSubscribe();
    return () => {
      this.listeners.delete(listener);
      this.onUnsubscribe();
    };
  };

  hasListeners(): boolean {
    return this.listeners.size > 0;
  }

  /** Hooks for subclasses that start or stop work with their first or last listener. */
  protected onSubscribe(): void {}
  protected onUnsubscribe(): void {}

  /**
   * Calls every listener. One that throws must not starve the others, and the error must
   * not vanish: it is rethrown in a microtask, where it reaches the usual error reporting.
   */
  protected notify(): void {
    // Copy first: a listener may unsubscribe itself (or others) while we iterate.
    for (const listener of [...this.listeners]) {
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
