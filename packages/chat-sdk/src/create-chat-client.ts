import { ChatError } from './protocol/errors.js';
import type { HostLink } from './contract/host-api.js';
import { type HostSettings, hostConfig } from './contract/host-options.js';
import type { BroadcastChannelConstructor, FetchLike, LockManagerLike, WebSocketConstructor } from './contract/platform.js';
import { ValueStore } from './contract/store.js';
import type { ChatClient, Transport } from './client/chat-client-api.js';
import { LinkedChatClient } from './client/chat-client.js';
import { createDraftsApi } from './client/drafts-api.js';
import type { Backoff } from './host/backoff.js';
import type { InTabHost } from './in-tab.js';
import type { LeaderElection } from './link/leader-election.js';
import { type LinkTimings, randomId } from './link/messages.js';
import { PortLink, VERSION_MISMATCH, connectWhenLoaded } from './link/port-link.js';
import { type WorkerPorts, sharedWorkerName, workerConnect, workerPorts } from './link/worker-link.js';
import type { ChatStorage } from './storage/types.js';

export interface ChatClientOptions extends HostSettings {
  /** The server's WebSocket url, e.g. `ws://127.0.0.1:8787/ws`. */
  url: string;
  /**
   * Where the connection host runs. `'shared-worker'`: in the SDK's SharedWorker, one
   * socket per user for every tab. `'leader'`: in the worker of one tab elected with Web
   * Locks, the others reach it over BroadcastChannel. `'in-tab'`: this tab's own connection,
   * in process with `inTab` (Node, tests), else in this tab's own worker.
   * `'auto'` (the default) picks the first of these the environment has; it runs in process
   * whenever `WebSocket`, `fetch`, `indexedDB` or `backoff` is passed, since those cannot
   * cross to a worker. `'websocket'` is the old name of `'in-tab'` (deprecated).
   */
  transport?: 'auto' | 'shared-worker' | 'leader' | 'in-tab' | 'websocket';
  /**
   * The host's code, to run the connection in this tab or process:
   * `import { inTab } from '@chat/sdk/in-tab'`. Without it a browser runs the host only in
   * the SDK's worker, so the page never downloads it; with it, a tab whose worker cannot load
   * runs its own connection instead of failing. In Node `@chat/sdk` passes it by itself.
   */
  inTab?: InTabHost;
  /** The worker script, when you host `@chat/sdk/worker` yourself (docs/bundlers.md). Default: the SDK's `worker.js`, found by the bundler. */
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
  Worker: unknown;
  locks: LockManagerLike | undefined;
  BroadcastChannel: BroadcastChannelConstructor | undefined;
}

function environment(options: ChatClientOptions): Environment {
  const g = globalThis as { SharedWorker?: unknown; Worker?: unknown; navigator?: { locks?: LockManagerLike }; BroadcastChannel?: BroadcastChannelConstructor };
  return {
    SharedWorker: g.SharedWorker,
    Worker: g.Worker,
    locks: g.navigator?.locks,
    BroadcastChannel: (options.BroadcastChannel as BroadcastChannelConstructor | undefined) ?? g.BroadcastChannel,
  };
}

/** Which host to run: the forced one (or a clear error), or the best the environment has. */
function pickTransport(options: ChatClientOptions, env: Environment): Transport {
  const requested = options.transport ?? 'auto';
  const local = ['WebSocket', 'fetch', 'indexedDB', 'backoff'].filter((k) => options[k as keyof ChatClientOptions] !== undefined);
  const hasWorker = typeof env.SharedWorker === 'function';
  // A leader runs its hosts in its own worker, or in process with the host's code at hand.
  const hasLeader = Boolean(env.locks && env.BroadcastChannel && (typeof env.Worker === 'function' || options.inTab));
  if (local.length > 0 && !options.inTab && (requested === 'auto' || requested === 'in-tab' || requested === 'websocket')) {
    throw new ChatError('BAD_REQUEST', `${local.join(', ')} apply only to a connection in process: pass inTab from '@chat/sdk/in-tab'`);
  }
  switch (requested) {
    case 'in-tab':
    case 'websocket':
      return 'in-tab';
    case 'shared-worker':
      if (!hasWorker) throw new ChatError('BAD_REQUEST', "transport 'shared-worker' needs SharedWorker, which this environment lacks");
      break;
    case 'leader':
      if (!hasLeader) throw new ChatError('BAD_REQUEST', "transport 'leader' needs Web Locks (navigator.locks), BroadcastChannel and Worker (or inTab), which this environment lacks");
      break;
    case 'auto':
      if (local.length > 0) return 'in-tab';
      return hasWorker ? 'shared-worker' : hasLeader ? 'leader' : 'in-tab';
    default:
      throw new ChatError('BAD_REQUEST', `unknown transport '${String(requested)}'`);
  }
  if (local.length > 0) warnOnce(`local:${local.join()}`, `${local.join(', ')} apply only in process; the worker's host ignores them`);
  return requested;
}

/** Creates a chat client. Nothing touches the network until a stored session resumes or `login` is called. */
export function createChatClient(options: ChatClientOptions): ChatClient {
  if (typeof options !== 'object' || options === null) throw new ChatError('BAD_REQUEST', 'createChatClient takes an options object');
  const url = checkUrl(options.url);
  if (options.inTab !== undefined && typeof options.inTab?.connect !== 'function') {
    throw new ChatError('BAD_REQUEST', "options.inTab must be the inTab of '@chat/sdk/in-tab'");
  }
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
  const timings: LinkTimings = {
    pingIntervalMs: options.linkPingIntervalMs ?? 5_000,
    maxMissedPings: options.linkMaxMissedPings ?? 3,
  };
  const transportStore = new ValueStore<Transport>(transport);
  const forced = (options.transport ?? 'auto') !== 'auto';
  const worker = (kind: 'shared' | 'dedicated', onError: (reason: string) => void): WorkerPorts =>
    workerPorts({ kind, name: sharedWorkerName(url), ...(options.workerUrl !== undefined ? { workerUrl: options.workerUrl } : {}), onError });

  const noConnection = (why: string): HostLink =>
    failingLink(new ChatError('BAD_REQUEST', `${why}; pass inTab from '@chat/sdk/in-tab' to run the connection in this tab`));

  /**
   * This tab's own connection: in process where the app passed the host's code (`inTab`),
   * else in this tab's own worker; null where neither can run (no Worker, or the worker
   * script is what failed: only a shared host of another version leaves ours usable).
   */
  const ownConnection = (whyNotShared?: string): { link: HostLink; ready: Promise<unknown> } | null => {
    if (options.inTab) {
      return options.inTab.connect(config, tabStorage(), {
        WebSocket: options.WebSocket as WebSocketConstructor | undefined,
        fetch: options.fetch as FetchLike | undefined,
        backoff: options.backoff,
      });
    }
    if (typeof env.Worker !== 'function' || (whyNotShared !== undefined && !whyNotShared.startsWith(VERSION_MISMATCH))) return null;
    // A worker's errors arrive as events (or a microtask), after the link below exists.
    const ports = worker('dedicated', (reason) => portLink.fallBack(reason));
    const portLink: PortLink = new PortLink({
      connect: workerConnect(ports),
      config,
      timings,
      transport: 'in-tab',
      // This tab's own worker cannot start either: nothing is left to fall back to.
      fallback: (reason) => ({ link: noConnection(reason), transport: 'in-tab' }),
      onFallback: (reason) => console.error(`@chat/sdk: ${reason}`),
    });
    closeAlso(portLink, () => ports.close());
    return { link: portLink, ready: portLink.ready };
  };

  let link: HostLink;
  let ready: Promise<unknown>;
  if (transport === 'in-tab') {
    ({ link, ready } = ownConnection() ?? { link: noConnection('this environment has no Worker to run the connection in'), ready: Promise.resolve() });
  } else {
    // A version mismatch always falls back (the tab still works, and the outbox lock keeps one
    // flusher); a worker that cannot start falls back only under 'auto', a forced mode fails.
    const mayFallBack = (reason: string) => !forced || reason.startsWith(VERSION_MISMATCH);
    const fallback = (reason: string) => {
      const own = mayFallBack(reason) ? ownConnection(reason) : null;
      if (!own) {
        return { link: forced ? failingLink(new ChatError('BAD_REQUEST', `transport '${transport}' cannot run: ${reason}`)) : noConnection(reason), transport };
      }
      transportStore.set('in-tab');
      return { link: own.link, transport: 'in-tab' as const };
    };
    const onFallback = (reason: string) =>
      !mayFallBack(reason)
        ? console.error(`@chat/sdk: transport '${transport}' cannot run: ${reason}`)
        : options.inTab || reason.startsWith(VERSION_MISMATCH)
          ? warnOnce(`fallback:${reason}`, `${reason}; this tab runs its own connection ('in-tab').`)
          : console.error(`@chat/sdk: ${reason}; pass inTab from '@chat/sdk/in-tab' to run the connection in this tab meanwhile.`);
    if (transport === 'shared-worker') {
      const ports = worker('shared', (reason) => portLink.fallBack(reason));
      const portLink: PortLink = new PortLink({ connect: workerConnect(ports), config, timings, transport: 'shared-worker', fallback, onFallback });
      link = portLink;
      ready = portLink.ready;
    } else {
      // Loaded only in leader mode (no SharedWorker): other tabs never download the election.
      const tabId = randomId();
      let portLink: PortLink | undefined;
      const { inTab } = options;
      // A leader whose worker cannot start falls back (fails, without `inTab`) and leaves the
      // election: the next tab leads, and fails the same way, so no tab waits on a dead host.
      const workerFailed = (reason: string) => {
        portLink?.fallBack(reason);
        void election.then((leader) => leader.close());
      };
      const election: Promise<LeaderElection> = Promise.all([import('./link/leader-election.js'), import('./link/worker-hub.js')]).then(
        ([{ LeaderElection }, { workerHub }]) => new LeaderElection({
          scope: url,
          BroadcastChannel: env.BroadcastChannel!,
          locks: env.locks!,
          tabId,
          // The leader's hosts run in its own worker, or in process with the host's code at hand.
          startHub: inTab ? () => inTab.createHub({}) : () => workerHub(worker('dedicated', workerFailed)),
        }),
      );
      portLink = new PortLink({ connect: connectWhenLoaded(election), config, timings, transport: 'leader', tabId, fallback, onFallback });
      closeAlso(portLink, () => void election.then((leader) => leader.close()));
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

/** Runs `also` when the link closes: what the link's channel does not own (a worker, an election). */
function closeAlso(link: PortLink, also: () => void): void {
  const close = link.close.bind(link);
  link.close = () => {
    close();
    also();
  };
}

/** The link of a tab whose connection cannot run anywhere: every call fails with the reason. */
function failingLink(error: ChatError): HostLink {
  return {
    call: () => Promise.reject(error),
    subscribe: () => () => undefined,
    close: () => undefined,
  };
}
