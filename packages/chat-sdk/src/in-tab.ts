/**
 * `@chat/sdk/in-tab`: the connection host's code, for running it in this tab or process.
 * In a browser the host runs in the SDK's worker (shared, or the leader tab's own), and the
 * page never downloads it; pass `inTab` to `createChatClient` to run it in the page instead
 * (`transport: 'in-tab'`), or to keep a tab working where the worker script cannot load.
 * In Node `@chat/sdk` passes it by itself.
 */
import type { HostLink } from './contract/host-api.js';
import type { HostConfig } from './contract/host-options.js';
import type { HostPlatform } from './host/create-host.js';
import type { HostHubOptions } from './link/hub/host-hub.js';
import { InProcessLink } from './link/in-process-link.js';
import type { Hub } from './link/worker-hub.js';
import type { ChatStorage } from './storage/types.js';

export interface InTabHost {
  /** A host of this tab's or process's own, and the link to it; `ready` once the host is made. */
  connect(config: HostConfig, storage: Promise<ChatStorage>, platform: HostPlatform): { link: HostLink; ready: Promise<unknown> };
  /** The hosts of every tab, in the tab that leads them (leader mode). */
  createHub(options: HostHubOptions): Promise<Hub>;
}

/** The host's code is loaded when a host is first made, not with this module. */
export const inTab: InTabHost = {
  connect: (config, storage, platform) => {
    const host = Promise.all([storage, import('./host/create-host.js')]).then(([opened, { createHost }]) => createHost(config, opened, platform));
    return { link: new InProcessLink(host), ready: host };
  },
  createHub: async (options) => new (await import('./link/hub/host-hub.js')).HostHub(options),
};
