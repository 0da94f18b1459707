import { createChatClient } from '@chat/sdk';
import { inTab } from '@chat/sdk/in-tab';
import { serverUrl } from './config.js';

/**
 * The app's one client, created outside React so StrictMode and re-renders never open a
 * second socket. 'auto' transport: a SharedWorker where the browser has one (every tab of
 * this origin shares its socket), else a leader tab (its own worker), else this tab alone.
 * `inTab` keeps the demo working where the worker script cannot load (a tab then runs its
 * own connection); the host's code it brings is fetched only then.
 */
export const client = createChatClient({ url: serverUrl(), inTab });
