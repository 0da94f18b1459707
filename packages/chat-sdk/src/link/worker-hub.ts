import type { TabPort } from './hub/tab-endpoint.js';
import { type TabMessage, isHostMessage } from './messages.js';
import type { WorkerPorts } from './worker-link.js';

/**
 * The hosts of a leader tab, run in its dedicated worker: the `connect`/`close` of a HostHub,
 * each tab's channel a port into the worker, so the host's code never loads in the page.
 */
export function workerHub(ports: WorkerPorts): Hub {
  return {
    connect: (tab) => {
      const port = ports.open();
      port?.addEventListener('message', (event: MessageEvent) => {
        if (isHostMessage(event.data)) tab.post(event.data);
      });
      port?.start();
      return { receive: (message) => port?.postMessage(message), disconnect: () => port?.close() };
    },
    close: () => ports.close(),
  };
}

/** What a leader runs its tabs' hosts on: a HostHub in process, or one in its dedicated worker. */
export interface Hub {
  connect(tab: TabPort): { receive(message: TabMessage): void; disconnect(): void };
  close(): void;
}
