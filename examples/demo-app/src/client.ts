import { createChatClient } from '@chat/sdk';
import { serverUrl } from './config.js';

/**
 * The app's one client, created outside React so StrictMode and re-renders never open a
 * second socket. 'auto' transport: a SharedWorker where the browser has one (every tab of
 * this origin shares its socket), else a leader tab, else this tab alone.
 */
export const client = createChatClient({ url: serverUrl() });
