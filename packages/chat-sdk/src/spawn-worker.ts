/**
 * Starts the SDK's worker script, shared or dedicated. This file sits beside `worker.ts`
 * (and, once built, its code beside `dist/worker.js`) so that
 * `new URL('./worker.js', import.meta.url)` points at the worker both in the sources and in
 * the package. Keep both expressions literally as they are: Vite and webpack 5 find the worker
 * by this exact shape and emit it with the app.
 */
export function spawnSharedWorker(name: string, workerUrl?: string | URL): SharedWorker {
  if (workerUrl !== undefined) return new SharedWorker(workerUrl, { type: 'module', name });
  return new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name });
}

/** The same script as this tab's own worker: the hosts of a leader tab, or of a tab that cannot share them. */
export function spawnDedicatedWorker(name: string, workerUrl?: string | URL): Worker {
  if (workerUrl !== undefined) return new Worker(workerUrl, { type: 'module', name });
  return new Worker(new URL('./worker.js', import.meta.url), { type: 'module', name });
}

/**
 * The worker script's address, for error messages: `workerUrl`, or where the SDK's own
 * `worker.js` sits beside this module (a bundler may have renamed it in a build). Written
 * without `new URL(..., import.meta.url)` so bundlers do not emit the file a second time.
 */
export function workerScriptName(workerUrl?: string | URL): string {
  if (workerUrl !== undefined) return String(workerUrl);
  try {
    const here = import.meta.url;
    return `${here.slice(0, here.lastIndexOf('/') + 1)}worker.js`;
  } catch {
    return "the SDK's worker.js";
  }
}
