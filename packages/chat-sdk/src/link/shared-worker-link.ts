import { spawnSharedWorker, workerScriptName } from '../shared-worker.js';
import { LINK_PROTOCOL, isHostMessage } from './messages.js';
import type { Connect } from './port-link.js';

/**
 * Channels to the SDK's SharedWorker. One worker per server url: its name carries the url,
 * so tabs of different servers never share one. `onError` hears a worker that could not
 * start (a script that failed to load or parse).
 */
export function sharedWorkerConnect(options: { name: string; workerUrl?: string | URL; onError(reason: string): void }): Connect {
  const script = workerScriptName(options.workerUrl);
  const howToFix = options.workerUrl === undefined
    ? 'serve @chat/sdk/worker and pass its url as workerUrl (docs/bundlers.md)'
    : 'check that workerUrl serves @chat/sdk/worker as a JavaScript module (docs/bundlers.md)';
  return (receive) => {
    let worker: SharedWorker;
    try {
      worker = spawnSharedWorker(options.name, options.workerUrl);
    } catch (error) {
      // No usable worker url (a CommonJS build has no import.meta.url), or the browser refused.
      const why = error instanceof Error ? error.message : String(error);
      queueMicrotask(() => options.onError(`the SharedWorker ${script} could not be created (${why}); ${howToFix}`));
      return { post: () => undefined, close: () => undefined };
    }
    const port = worker.port;
    const onMessage = (event: MessageEvent) => {
      if (isHostMessage(event.data)) receive(event.data);
    };
    const onError = (event: Event) => {
      const message = (event as ErrorEvent).message;
      options.onError(`the SharedWorker ${script} failed to load or start${message ? ` (${message})` : ''}; ${howToFix}`);
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

/**
 * One worker per server url and link protocol: a tab never attaches to a worker that speaks
 * another version of the link (it would not understand its hello), even at the same script url.
 */
export function sharedWorkerName(url: string): string {
  return `chat-sdk:${LINK_PROTOCOL}:${url}`;
}
