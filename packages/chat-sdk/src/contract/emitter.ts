
type Listener<A extends unknown[]> = (...args: A) => void;

/** Stored untyped: each list belongs to one event, whose type `on` checked. */
interface Entry {
  fn: (...args: never[]) => void;
  context: unknown;
  once: boolean;
}

/**
 * A typed event emitter with eventemitter3's listening surface (`on`, `once`, `off`,
 * `addListener`, `removeListener`, `listeners`, `listenerCount`, `removeAllListeners`) in a
 * few hundred bytes. Listeners run in the order they were added, on a copy of the list, so
 * one may remove itself or others while an event is being told.
 */
/** `Events`: event name -> the arguments its listeners get. */
export class Emitter<Events extends { [E in keyof Events]: unknown[] }> {
  private readonly entries = new Map<keyof Events, Entry[]>();

  on<E extends keyof Events>(event: E, fn: Listener<Events[E]>, context?: unknown): this {
    return this.add(event, fn, context, false);
  }

  addListener<E extends keyof Events>(event: E, fn: Listener<Events[E]>, context?: unknown): this {
    return this.add(event, fn, context, false);
  }

  once<E extends keyof Events>(event: E, fn: Listener<Events[E]>, context?: unknown): this {
    return this.add(event, fn, context, true);
  }

  /** Without `fn`, removes every listener of `event`. */
  off<E extends keyof Events>(event: E, fn?: Listener<Events[E]>, context?: unknown, once?: boolean): this {
    const list = this.entries.get(event);
    if (!list) return this;
    const kept = fn
      ? list.filter((e) => (e.fn as unknown) !== fn || (context !== undefined && e.context !== context) || (once && !e.once))
      : [];
    if (kept.length) this.entries.set(event, kept);
    else this.entries.delete(event);
    return this;
  }

  removeListener<E extends keyof Events>(event: E, fn?: Listener<Events[E]>, context?: unknown, once?: boolean): this {
    return this.off(event, fn, context, once);
  }

  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.entries.clear();
    else this.entries.delete(event);
    return this;
  }

  listeners<E extends keyof Events>(event: E): Array<Listener<Events[E]>> {
    return (this.entries.get(event) ?? []).map((e) => e.fn as unknown as Listener<Events[E]>);
  }

  listenerCount(event: keyof Events): number {
    return this.entries.get(event)?.length ?? 0;
  }

  /** Calls the listeners of `event`; true when there were any. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const list = this.entries.get(event);
    if (!list) return false;
    for (const entry of [...list]) {
      const fn = entry.fn as unknown as Listener<Events[E]>;
      if (entry.once) this.off(event, fn, undefined, true);
      fn.apply(entry.context, args);
    }
    return true;
  }

  private add(event: keyof Events, fn: unknown, context: unknown, once: boolean): this {
    if (typeof fn !== 'function') throw new TypeError('The listener must be a function');
    this.entries.set(event, [...(this.entries.get(event) ?? []), { fn: fn as Entry['fn'], context, once }]);
    return this;
  }
}
