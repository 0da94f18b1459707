import { ChatError } from './protocol/errors.js';
import type { HostLink } from './contract/host-api.js';
import { type HostSettings, hostConfig } from './contract/host-options.js';
import type { BroadcastChannelConstructor, FetchLike, LockManagerLike, WebSocketConstructor } from './contract/platform.js';
import { ValueStore } from './contract/store.js';
import type { ChatClient, Transport } from './client/chat-client-api.js';
import { LinkedChatClient } from './client/chat-client.js';
import { createDraftsApi } from './client/drafts-api.js';
import type { Backoff } from './host/backoff.js';
import { InProcessLink } from './link/in-process-link.js';
import { type LinkTimings, randomId } from './link/messages.js';
import { PortLink, VERSION_MISMATCH, connectWhenLoaded } from './link/port-link.js';
import { sharedWorkerConnect, sharedWorkerName } from './link/shared-worker-link.js';
import type { ChatStorage } from './storage/types.js';

export interface ChatClientOptions extends HostSettings {
  /** The server's WebSocket url, e.g. `ws://127.0.0.1:8787/ws`. */
  url: string;
  /**
   * Where the connection host runs. `'shared-worker'`: in the SDK's SharedWorker, one
   * socket per user for every tab. `'leader'`: in one tab elected with Web Locks, the others
   * reach it over BroadcastChannel. `'in-tab'`: in this tab or process (Node, tests).
   * `'auto'` (the default) picks the first of these the environment has; it runs in the tab
   * whenever `WebSocket`, `fetch`, `indexedDB` or `backoff` is passed, since those cannot
   * cross to a shared host. `'websocket'` is the old name of `'in-tab'` (deprecated).
   */
  transport?: 'auto' | 'shared-worker' | 'leader' | 'in-tab' | 'websocket';
  /** The SharedWorker script, when you host `@chat/sdk/worker` yourself (docs/bundlers.md). Default: the SDK's `worker.js`, found by the bundler. */
  workerUrl?: string | URL;
  /** Default `'indexeddb'` where it exists, else (and when it fails) memory. */
  storage?: 'indexeddb' | 'memory';
  /** Default: the global WebSocket. In Node pass `ws`'s. In process only. */
  WebSocket?: WebSocketConstructor | (new (url: string) => unknown);
  /** Default: the global `indexedDB`. In process only. */
  indexedDB?: IDBFactory;
  /** Default: the global `fetch` (used to upload images). In process only. */
  fetch?: FetchLike | typeof fetch;
  /** Default: the global BroadcastChannel, to keep drafts in step across tabs (and for leader mode). */
  BroadcastChannel?: typeof BroadcastChannel;
  /** Reconnect and resend wait: `(attempt) => ms`. In process only; a shared host uses `backoffOptions`. */
  backoff?: Backoff;
  /** How often a tab and its shared host ping each other. Default 5 000 ms. */
  linkPingIntervalMs?: number;
  /** Link pings missed in a row before the other side counts as gone (the host drops the tab; the tab starts a new host). Default 3. */
  linkMaxMissedPings?: number;
  /** Debounce of draft writes. Default 300 ms. */
  draftDebounceMs?: number;
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

const warned = new Set<string>();
function warnOnce(key: string, message: string): void {
  if (warned.has(key)) return;
  warned.add(key);
  console.warn(`@chat/sdk: ${message}`);
}

interface Environment {
  SharedWorker: unknown;
  locks: LockManagerLike | undefined;
  BroadcastChannel: BroadcastChannelConstructor | undefined;
}

function environment(options: ChatClientOptions): Environment {
  const g = globalThis as { SharedWorker?: unknown; navigator?: { locks?: LockManagerLike }; BroadcastChannel?: BroadcastChannelConstructor };
  return {
    SharedWorker: g.SharedWorker,
    locks: g.navigator?.locks,
    BroadcastChannel: (options.BroadcastChannel as BroadcastChannelConstructor | undefined) ?? g.BroadcastChannel,
  };
}

/** Which host to run: the forced one (or a clear error), or the best the environment has. */
function pickTransport(options: ChatClientOptions, env: Environment): Transport {
  const requested = options.transport ?? 'auto';
  const local = ['WebSocket', 'fetch', 'indexedDB', 'backoff'].filter((k) => options[k as keyof ChatClientOptions] !== undefined);
  const hasWorker = typeof env.SharedWorker === 'function';
  const hasLeader = Boolean(env.locks && env.BroadcastChannel);
  switch (requested) {
    case 'in-tab':
    case 'websocket':
      return 'in-tab';
    case 'shared-worker':
      if (!hasWorker) throw new ChatError('BAD_REQUEST', "transport 'shared-worker' needs SharedWorker, which this environment lacks");
      break;
    case 'leader':
      if (!hasLeader) throw new ChatError('BAD_REQUEST', "transport 'leader' needs Web Locks (navigator.locks) and BroadcastChannel, which this environment lacks");
      break;
    case 'auto':
      if (local.length > 0) return 'in-tab';
      return hasWorker ? 'shared-worker' : hasLeader ? 'leader' : 'in-tab';
    default:
      throw new ChatError('BAD_REQUEST', `unknown transport '${String(requested)}'`);
  }
  if (local.length > 0) warnOnce(`local:${local.join()}`, `${local.join(', ')} apply only in process; the shared host ignores them`);
  return requested;
}

/** Creates a chat client. Nothing touches the network until a stored session resumes or `login` is called. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  if (typeof options !== 'object' || options === null) throw new ChatError('BAD_REQUEST', 'createChatClient takes an options object');
  const url = checkUrl(options.url);
  const env = environment(options);
  const transport = pickTransport(options, env);

  // Where IndexedDB does not exist at all (plain Node), memory is the default, not a fallback.
  const hasIndexedDB = Boolean(options.indexedDB ?? (globalThis as { indexedDB?: unknown }).indexedDB);
  const storageKind = options.storage ?? (hasIndexedDB ? 'indexeddb' : 'memory');
  let storage: Promise<ChatStorage> | undefined;
  // The tab's own storage: drafts always, and the host too when it runs in process. Loaded on
  // first use (a draft, an in-tab host), so IndexedDB's code is not in the page's first load.
  const tabStorage = () =>
    (storage ??= import('./storage/open-storage.js').then(({ openStorage }) => openStorage({
      kind: storageKind,
      ...(options.indexedDB ? { indexedDB: options.indexedDB } : {}),
      onFallback: (reason) => warnOnce('storage', `IndexedDB is not available (${reason}); the outbox and drafts are kept in memory only.`),
    })));

  const config = hostConfig(url, storageKind, options);
  const inProcess = (): { link: HostLink; ready: Promise<unknown> } => {
    // Loaded only where the host runs in this tab: a tab served by a shared worker never downloads it.
    const host = Promise.all([tabStorage(), import('./host/create-host.js')]).then(([opened, { createHost }]) =>
      createHost(config, opened, {
        WebSocket: options.WebSocket as WebSocketConstructor | undefined,
        fetch: options.fetch as FetchLike | undefined,
        backoff: options.backoff,
      }),
    );
    return { link: new InProcessLink(host), ready: host };
  };

  const transportStore = new ValueStore<Transport>(transport);
  let link: HostLink;
  let ready: Promise<unknown>;
  if (transport === 'in-tab') {
    ({ link, ready } = inProcess());
  } else {
    const timings: LinkTimings = {
      pingIntervalMs: options.linkPingIntervalMs ?? 5_000,
      maxMissedPings: options.linkMaxMissedPings ?? 3,
    };
    const forced = (options.transport ?? 'auto') !== 'auto';
    // A version mismatch always falls back (the tab still works, and the outbox lock keeps one
    // flusher); a worker that cannot start falls back only under 'auto', a forced mode fails.
    const fallback = (reason: string) => {
      if (forced && !reason.startsWith(VERSION_MISMATCH)) {
        return { link: failingLink(new ChatError('BAD_REQUEST', `transport '${transport}' cannot run: ${reason}`)), transport };
      }
      transportStore.set('in-tab');
      return { link: inProcess().link, transport: 'in-tab' as const };
    };
    const onFallback = (reason: string) =>
      forced && !reason.startsWith(VERSION_MISMATCH)
        ? console.error(`@chat/sdk: transport '${transport}' cannot run: ${reason}`)
        : warnOnce(`fallback:${reason}`, `${reason}; this tab runs its own connection ('in-tab').`);
    if (transport === 'shared-worker') {
      let portLink: PortLink | undefined;
      let failed: string | undefined;
      const connect = sharedWorkerConnect({
        name: sharedWorkerName(url),
        ...(options.workerUrl !== undefined ? { workerUrl: options.workerUrl } : {}),
        onError: (reason) => {
          failed = reason;
          portLink?.fallBack(reason);
        },
      });
      portLink = new PortLink({ connect, config, timings, transport: 'shared-worker', fallback, onFallback });
      if (failed) portLink.fallBack(failed);
      link = portLink;
      ready = portLink.ready;
    } else {
      // Loaded only in leader mode (no SharedWorker): other tabs never download the election.
      const tabId = randomId();
      const election = import('./link/leader-election.js').then(
        ({ LeaderElection }) => new LeaderElection({ scope: url, BroadcastChannel: env.BroadcastChannel!, locks: env.locks!, tabId }),
      );
      const portLink = new PortLink({ connect: connectWhenLoaded(election), config, timings, transport: 'leader', tabId, fallback, onFallback });
      const close = portLink.close.bind(portLink);
      portLink.close = () => {
        close();
        void election.then((leader) => leader.close());
      };
      link = portLink;
      ready = portLink.ready;
    }
  }

  const client: ChatClient = new LinkedChatClient({
    link,
    transport: transportStore,
    ready,
    drafts: (session) =>
      createDraftsApi(tabStorage(), session, {
        BroadcastChannel: env.BroadcastChannel as typeof BroadcastChannel | undefined,
        ...(options.draftDebounceMs !== undefined ? { debounceMs: options.draftDebounceMs } : {}),
      }),
  });
  return client;
}

/** The link of a forced shared mode that cannot run: every call fails with the reason. */
function failingLink(error: ChatError): HostLink {
  return {
    call: () => Promise.reject(error),
    subscribe: () => () => undefined,
    close: () => undefined,
  };
}
