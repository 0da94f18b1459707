import type { TabPort } from './hub/tab-endpoint.js';
import type { TabMessage } from './messages.js';
import { type WorkerPorts, workerConnect } from './worker-link.js';

/**
 * The hosts of a leader tab, run in its dedicated worker: the `connect`/`close` of a HostHub,
 * each tab's channel a port into the worker (the same channel a tab's own link opens), so the
 * host's code never loads in the page.
 */
export function workerHub(ports: WorkerPorts): Hub {
  const connect = workerConnect(ports);
  return {
    connect: (tab) => {
      const channel = connect((message) => tab.post(message));
      return { receive: (message) => channel.post(message), disconnect: () => channel.close() };
    },
    close: () => ports.close(),
  };
}

/** What a leader runs its tabs' hosts on: a HostHub in process, or one in its dedicated worker. */
export interface Hub {
  connect(tab: TabPort): { receive(message: TabMessage): void; disconnect(): void };
  close(): void;
}
