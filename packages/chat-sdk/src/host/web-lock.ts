import type { LockManagerLike } from '../contract/platform.js';

function lockManager(): LockManagerLike | undefined {
  const nav = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator;
  return nav?.locks;
}

/**
 * Holds the Web Lock `name` until `release()` is called, where Web Locks exist (browsers).
 * Elsewhere (Node) there is only one process per store, so the lock is granted at once.
 * `acquired` resolves when the lock is held; waiting for it is how a second host stays idle.
 */
export function holdWebLock(name: string): { acquired: Promise<void>; release(): void } {
  const locks = lockManager();
  if (!locks) return { acquired: Promise.resolve(), release() {} };
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let granted!: () => void;
  const acquired = new Promise<void>((resolve) => (granted = resolve));
  locks
    .request(name, {}, () => {
      granted();
      return released;
    })
    .catch(() => granted());
  return { acquired, release };
}
