/**
 * `@chat/sdk/worker`: the module worker that runs the connection hosts. As the SharedWorker
 * (where there is one) it serves every tab of an origin; as a dedicated worker it serves the
 * tabs of a leader tab (leader mode) or the one tab that started it. `createChatClient`
 * starts it by itself; import this entry only to host the worker yourself (`workerUrl`). One
 * worker serves one server url (its name says which) and keeps one host, with one socket,
 * per signed-in user.
 */
import { HostHub } from './link/hub/host-hub.js';
import { isTabMessage } from './link/is-tab-message.js';
import { CLOSE_WORKER, PORT_TO_WORKER } from './link/messages.js';

interface WorkerScope {
  addEventListener(type: 'connect' | 'message', listener: (event: { data?: unknown; ports: readonly MessagePort[] }) => void): void;
  close(): void;
}

const scope = globalThis as unknown as WorkerScope & { onconnect?: unknown; DedicatedWorkerGlobalScope?: new () => unknown };
const shared = 'onconnect' in scope;
const dedicated = typeof scope.DedicatedWorkerGlobalScope === 'function' && scope instanceof scope.DedicatedWorkerGlobalScope;
// Only inside a worker: importing this file anywhere else does nothing.
if (shared || dedicated) {
  const hub = new HostHub({ onError: (error) => console.error('@chat/sdk worker:', error) });
  const attach = (port: MessagePort) => {
    const tab = hub.connect({ post: (message) => port.postMessage(message) });
    port.addEventListener('message', (e: MessageEvent) => {
      if (isTabMessage(e.data)) tab.receive(e.data);
    });
    // Chromium fires `close` only behind a flag; where it exists it ends the tab at once,
    // elsewhere the hub's pings do.
    port.addEventListener('close', () => tab.disconnect());
    port.start();
  };
  if (shared) {
    scope.addEventListener('connect', (event) => event.ports[0] && attach(event.ports[0]));
  } else {
    // A dedicated worker hears its tab: a port for each tab it serves, then (the tab stepping
    // down as leader) the end, after which its hosts close their sockets and the worker ends.
    scope.addEventListener('message', (event) => {
      const kind = (event.data as { kind?: unknown } | null)?.kind;
      if (kind === PORT_TO_WORKER && event.ports[0]) attach(event.ports[0]);
      if (kind === CLOSE_WORKER) {
        hub.close();
        // The sockets' close frames leave before the worker goes.
        setTimeout(() => scope.close(), 100);
      }
    });
  }
}

export {};
