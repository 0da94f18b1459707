import { ChatError } from '../protocol/index.js';
import type { Backoff } from '../host/backoff.js';
import { ChatHost } from '../host/chat-host.js';
import { globalWebSocket, type WebSocketConstructor } from '../host/socket.js';
import type { FetchLike } from '../host/uploads.js';
import { InProcessLink } from '../link/in-process.js';
import { openStorage } from '../storage/open-storage.js';
import { ChatClient } from './chat-client.js';
import { createDraftsApi } from './drafts-api.js';

export interface ChatClientOptions {
  /** The server's WebSocket url, e.g. `ws://127.0.0.1:8787/ws`. */
  url: string;
  /**
   * Where the connection host runs. `'websocket'`: in this process (Node, tests, one tab).
   * `'auto'` (the default) picks the best the environment has.
   */
  transport?: 'auto' | 'shared-worker' | 'leader' | 'websocket';
  /** Default `'indexeddb'` where it exists, else (and when it fails) memory. */
  storage?: 'indexeddb' | 'memory';
  /** Default: the global WebSocket. In Node pass `ws`'s. */
  WebSocket?: WebSocketConstructor | (new (url: string) => unknown);
  /** Default: the global `indexedDB`. */
  indexedDB?: IDBFactory;
  /** Default: the global `fetch` (used to upload images). */
  fetch?: FetchLike | typeof fetch;
  /** Default: the global BroadcastChannel, to keep drafts in step across tabs. */
  BroadcastChannel?: typeof BroadcastChannel;
  /** Reconnect and resend wait: `(attempt) => ms`. Default exponential, full jitter, 500 ms to 30 s. */
  backoff?: Backoff;
  /** Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Idle time before a liveness ping. Default 25 000 ms. */
  pingIntervalMs?: number;
  /** Debounce of draft writes. Default 300 ms. */
  draftDebounceMs?: number;
  /** Where images are uploaded. Default the server's `/uploads` beside `url`. */
  uploadUrl?: string;
}

function checkUrl(url: unknown): string {
  if (typeof url !== 'string') throw new ChatError('BAD_REQUEST', 'options.url must be a ws:// or wss:// url');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ChatError('BAD_REQUEST', `options.url is not a url: ${url}`);
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') {
    throw new ChatError('BAD_REQUEST', `options.url must use ws: or wss:, not ${parsed.protocol}`);
  }
  return url;
}

let warnedAboutFallback = false;

/** Creates a chat client. Nothing touches the network until a stored session resumes or `login` is called. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  if (typeof options !== 'object' || options === null) throw new ChatError('BAD_REQUEST', 'createChatClient takes an options object');
  const url = checkUrl(options.url);
  const transport = options.transport ?? 'auto';
  if (transport !== 'auto' && transport !== 'websocket') {
    throw new ChatError('BAD_REQUEST', `transport '${transport}' is not available in this environment`);
  }
  const WebSocket = (options.WebSocket as WebSocketConstructor | undefined) ?? globalWebSocket();
  if (!WebSocket) throw new ChatError('BAD_REQUEST', 'no WebSocket in this environment: pass options.WebSocket (in Node, the `ws` package)');
  const fetchImpl = (options.fetch as FetchLike | undefined) ?? ((globalThis as { fetch?: FetchLike }).fetch);
  const fetchOrFail: FetchLike =
    fetchImpl ?? (() => Promise.reject(new ChatError('BAD_REQUEST', 'no fetch in this environment: pass options.fetch to send images')));

  let reportFallback: ((reason: string) => void) | undefined;
  // Where IndexedDB does not exist at all (plain Node), memory is the default, not a fallback.
  const hasIndexedDB = Boolean(options.indexedDB ?? (globalThis as { indexedDB?: unknown }).indexedDB);
  const storage = openStorage({
    kind: options.storage ?? (hasIndexedDB ? 'indexeddb' : 'memory'),
    ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
    onFallback: (reason) => reportFallback?.(reason),
  });
  const host = storage.then(
    (opened) =>
      new ChatHost({
        url,
        WebSocket,
        fetch: fetchOrFail,
        storage: opened,
        ...(options.backoff ? { backoff: options.backoff } : {}),
        ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
        ...(options.pingIntervalMs ? { pingIntervalMs: options.pingIntervalMs } : {}),
        ...(options.uploadUrl ? { uploadUrl: options.uploadUrl } : {}),
      }),
  );
  const client = new ChatClient({
    link: new InProcessLink(host),
    transport: 'websocket',
    ready: host,
    drafts: (session) =>
      createDraftsApi(storage, session, {
        BroadcastChannel: options.BroadcastChannel ?? (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel,
        ...(options.draftDebounceMs !== undefined ? { debounceMs: options.draftDebounceMs } : {}),
      }),
  });
  reportFallback = (reason) => {
    if (warnedAboutFallback) return;
    warnedAboutFallback = true;
    console.warn(`@chat/sdk: IndexedDB is not available (${reason}); the outbox and drafts are kept in memory only.`);
  };
  return client;
}
