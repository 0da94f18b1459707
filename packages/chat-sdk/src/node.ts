/**
 * `@chat/sdk` in Node (the `node` export condition): the same API, with the connection host
 * in process by default, since Node has no worker to run it in.
 */
import { type ChatClientOptions, createChatClient as createBrowserClient } from './create-chat-client.js';
import type { ChatClient } from './client/chat-client-api.js';
import { inTab } from './in-tab.js';

export * from './index.js';
export { inTab, type InTabHost } from './in-tab.js';

/** Creates a chat client; in Node its connection runs in this process. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  // (An `inTab: undefined` passed on must not take the default away.)
  if (typeof options !== 'object' || options === null || options.inTab) return createBrowserClient(options);
  return createBrowserClient({ ...options, inTab });
}
