// The few promises the storage needs over IndexedDB's requests and transactions, in place of
// the `idb` package (about 1 KB gzipped in every app that ships the SDK). Continuations run as
// microtasks of the success event, so a transaction stays active across an `await` of these.

/** A request's result, or its error. */
export function settled<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/** Resolves once the transaction has committed; rejects when it fails or is aborted. */
export function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new DOMException('AbortError', 'AbortError'));
  });
}
