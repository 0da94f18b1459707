import { spawnSharedWorker } from '../shared-worker.js';
import { isHostMessage } from './messages.js';
import type { Connect } from './port-link.js';

/**
 * Channels to the SDK's SharedWorker. One worker per server url: its name carries the url,
 * so tabs of different servers never share one. `onError` hears a worker that could not
 * start (a script that failed to load or parse).
 */
export function sharedWorkerConnect(options: { name: string; workerUrl?: string | URL; onError(reason: string): void }): Connect {
  return (receive) => {
    let worker: SharedWorker;
    try {
      worker = spawnSharedWorker(options.name, options.workerUrl);
    } catch (error) {
      // No usable worker url (a CommonJS build has no import.meta.url), or the browser refused.
      queueMicrotask(() => options.onError(`the SharedWorker could not be created (${error instanceof Error ? error.message : String(error)}); pass workerUrl`));
      return { post: () => undefined, close: () => undefined };
    }
    const port = worker.port;
    const onMessage = (event: MessageEvent) => {
      if (isHostMessage(event.data)) receive(event.data);
    };
    const onError = (event: Event) => {
      const message = (event as ErrorEvent).message;
      options.onError(`the SharedWorker failed to start${message ? `: ${message}` : ''}`);
    };
    port.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    port.start();
    return {
      post: (message) => port.postMessage(message),
      close: () => {
        port.removeEventListener('message', onMessage);
        worker.removeEventListener('error', onError);
        port.close();
      },
    };
  };
}

export function sharedWorkerName(url: string): string {
  return `chat-sdk:${url}`;
}
