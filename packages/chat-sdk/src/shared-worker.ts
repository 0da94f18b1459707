/**
 * Starts the SDK's module SharedWorker. This file sits beside `worker.ts` (and, once built,
 * its code beside `dist/worker.js`) so that `new URL('./worker.js', import.meta.url)` points
 * at the worker both in the sources and in the package. Keep the expression literally as it
 * is: Vite and webpack 5 find the worker by this exact shape and emit it with the app.
 */
export function spawnSharedWorker(name: string, workerUrl?: string | URL): SharedWorker {
  if (workerUrl !== undefined) return new SharedWorker(workerUrl, { type: 'module', name });
  return new SharedWorker(new URL('./worker.js', import.meta.url), { type: 'module', name });
}
