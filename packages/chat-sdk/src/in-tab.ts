/**
 * `@chat/sdk/in-tab`: the connection host's code, for running it in this tab or process.
 * In a browser the host runs in the SDK's worker (shared, or the leader tab's own), and the
 * page never downloads it; pass `inTab` to `createChatClient` to run it in the page instead
 * (`transport: 'in-tab'`), or to keep a tab working where the worker script cannot load.
 * In Node `@chat/sdk` passes it by itself.
 */
import type { HostHubOptions } from './link/hub/host-hub.js';
import type { Hub } from './link/worker-hub.js';
import type { HostConfig } from './contract/host-options.js';
import type { ChatHost } from './host/chat-host.js';
import type { HostPlatform } from './host/create-host.js';
import type { ChatStorage } from './storage/types.js';

export interface InTabHost {
  /** One host, for a tab or process of its own. */
  createHost(config: HostConfig, storage: ChatStorage, platform: HostPlatform): Promise<ChatHost>;
  /** The hosts of every tab, in the tab that leads them (leader mode). */
  createHub(options: HostHubOptions): Promise<Hub>;
}

/** The host's code is loaded when a host is first made, not with this module. */
export const inTab: InTabHost = {
  createHost: async (config, storage, platform) => (await import('./host/create-host.js')).createHost(config, storage, platform),
  createHub: async (options) => new (await import('./link/hub/host-hub.js')).HostHub(options),
};
