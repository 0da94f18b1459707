import type { Storage } from './types.js';

/**
 * Every method of `Storage` returning a Promise of what it returns there. A mapped type
 * over `Storage`, so a method added to `Storage` is required here too and the two
 * contracts can never drift; properties that are not methods are kept as they are.
 */
type Promised<T> = { [K in keyof T]: T[K] extends (...a: infer A) => infer R ? (...a: A) => Promise<R> : T[K] };

/**
 * The storage contract for stores that cannot answer synchronously (PostgreSQL, issue 16):
 * the same methods and semantics as `Storage`, each returning a Promise. The server's
 * handlers still call `Storage` synchronously; moving them to this contract is a later step.
 */
export type AsyncStorage = Omit<Promised<Storage>, 'kind'> & { readonly kind: Storage['kind'] | 'postgres' };

/**
 * A synchronous store seen through the async contract: each method's result (or throw)
 * becomes a resolved (or rejected) Promise. Built over whatever methods the store has, so
 * the same contract tests run against memory, SQLite and PostgreSQL alike.
 */
export function asAsync(storage: Storage): AsyncStorage {
  return new Proxy(storage, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => (value as (...a: unknown[]) => unknown).apply(target, args);
    },
  }) as unknown as AsyncStorage;
}
