/**
 * `@chat/sdk/worker`: the module SharedWorker that runs the connection hosts of every tab
 * of an origin. `createChatClient` starts it by itself; import this entry only to host the
 * worker yourself (`workerUrl`). One worker serves one server url (its name says which) and
 * keeps one host, with one socket, per signed-in user.
 */
import { HostHub } from './link/hub/host-hub.js';
import { isTabMessage } from './link/is-tab-message.js';

interface SharedWorkerScope {
  addEventListener(type: 'connect', listener: (event: { ports: readonly MessagePort[] }) => void): void;
}

const scope = globalThis as unknown as Partial<SharedWorkerScope> & { onconnect?: unknown };
// Only inside a SharedWorker: importing this file anywhere else does nothing.
if (typeof scope.addEventListener === 'function' && 'onconnect' in scope) {
  const hub = new HostHub({ onError: (error) => console.error('@chat/sdk worker:', error) });
  scope.addEventListener('connect', (event) => {
    const port = event.ports[0];
    if (!port) return;
    const tab = hub.connect({ post: (message) => port.postMessage(message) });
    port.addEventListener('message', (e: MessageEvent) => {
      if (isTabMessage(e.data)) tab.receive(e.data);
    });
    // Chromium fires `close` only behind a flag; where it exists it ends the tab at once,
    // elsewhere the hub's pings do.
    port.addEventListener('close', () => tab.disconnect());
    port.start();
  });
}

export {};
