import { ChatError, toChatError } from '../protocol/index.js';
import { type HostCommand, type HostSnapshot, type Session, snapshotEvents } from '../contract/host-api.js';
import { HOST_OPTIONS, type HostConfig, configKey } from '../contract/host-options.js';
import type { ChatHost } from '../host/chat-host.js';
import { createHost } from '../host/create-host.js';
import { openStorage } from '../storage/open-storage.js';
import type { ChatStorage } from '../storage/types.js';
import { type HostMessage, LINK_PROTOCOL, type LinkTimings, SDK_VERSION, type TabMessage, randomId } from './messages.js';

/** How the hub reaches one tab: a MessagePort, or the BroadcastChannel addressed to that tab. */
export interface TabPort {
  post(message: HostMessage): void;
}

export interface HostHubOptions {
  /** Builds a host for a config; default a ChatHost on the global WebSocket and fetch. */
  createHost?: (config: HostConfig, storage: ChatStorage) => ChatHost;
  /** Opens the storage shared by the hosts of one config; default `openStorage(config.storage)`. */
  openStorage?: (config: HostConfig) => Promise<ChatStorage>;
  now?: () => number;
  /** Told about faults that fail no call (a storage that cannot be read). */
  onError?: (error: unknown) => void;
}

interface Tab {
  readonly port: TabPort;
  id: string | null;
  group: Group | null;
  timings: LinkTimings;
  lastHeard: number;
  pinger: ReturnType<typeof setInterval> | undefined;
  entry: Entry | null;
  /** Binding in progress (a hello with a session): calls wait for it. */
  ready: Promise<void>;
}

/** The hosts of one config (server url, storage kind, timings): one per signed-in user. */
interface Group {
  readonly key: string;
  readonly config: HostConfig;
  readonly storage: Promise<ChatStorage>;
  readonly byUser: Map<string, Entry>;
  readonly entries: Set<Entry>;
}

interface Entry {
  readonly group: Group;
  readonly host: ChatHost;
  /** null while a login on this host has not said who the user is. */
  userId: string | null;
  readonly tabs: Set<Tab>;
  /** The first resume of a host made for a stored session. */
  ready: Promise<unknown>;
  grace: ReturnType<typeof setTimeout> | undefined;
  unsubscribe: () => void;
  closed: boolean;
}

const EMPTY_SNAPSHOT: HostSnapshot = { connection: { status: 'idle', attempt: 0 }, session: null, rooms: [], outbox: [] };

/**
 * The connection hosts of one SharedWorker or one leader tab, and the tabs attached to
 * them. Hosts are keyed by config and user: tabs of one user share one host (one socket),
 * a tab signed in as someone else gets its own, and tabs with other settings never share.
 * A tab not signed in belongs to no host until `resume`, `login` or `signUp` says who it is.
 */
export class HostHub {
  readonly bootId = randomId();
  private readonly tabs = new Set<Tab>();
  private readonly groups = new Map<string, Group>();
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: HostHubOptions = {}) {
    this.now = options.now ?? Date.now;
  }

  /** Attaches one channel to a tab; feed it the tab's messages, call `disconnect` when the channel ends. */
  connect(port: TabPort): { receive(message: TabMessage): void; disconnect(): void } {
    const tab: Tab = {
      port,
      id: null,
      group: null,
      timings: { pingIntervalMs: 10_000, maxMissedPings: 3 },
      lastHeard: this.now(),
      pinger: undefined,
      entry: null,
      ready: Promise.resolve(),
    };
    return {
      receive: (message) => this.receive(tab, message),
      disconnect: () => {
        this.forget(tab);
        this.tabs.delete(tab);
      },
    };
  }

  /** How many hosts are running (each with its own socket once signed in). */
  hostCount(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.entries.size;
    return n;
  }

  /** Closes every host (their sockets) and forgets every tab. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tab of [...this.tabs]) this.forget(tab);
    this.tabs.clear();
    for (const group of [...this.groups.values()]) for (const entry of [...group.entries]) this.closeEntry(entry);
  }

  // ---------------------------------------------------------------- messages

  private receive(tab: Tab, message: TabMessage): void {
    if (this.closed) return;
    tab.lastHeard = this.now();
    switch (message.t) {
      case 'hello':
        this.hello(tab, message);
        return;
      case 'call':
        if (!tab.id) {
          // Dropped (missed pings) or never said hello: it must hello first, then send again.
          tab.port.post({ t: 'reset', ids: [message.id] });
          return;
        }
        void this.call(tab, message.id, message.command);
        return;
      case 'ping':
      case 'pong':
        // A tab dropped for silence (hung, frozen) that speaks again learns it must hello again.
        if (!tab.id) tab.port.post({ t: 'reset' });
        else if (message.t === 'ping') tab.port.post({ t: 'pong' });
        return;
      case 'bye':
        this.forget(tab);
        return;
    }
  }

  private hello(tab: Tab, hello: Extract<TabMessage, { t: 'hello' }>): void {
    const accepted = hello.protocol === LINK_PROTOCOL && hello.sdk === SDK_VERSION;
    tab.port.post({ t: 'welcome', bootId: this.bootId, protocol: LINK_PROTOCOL, sdk: SDK_VERSION, accepted });
    if (!accepted) return;
    const group = this.groupFor(hello.config);
    if (tab.group !== group) this.forget(tab);
    tab.id = hello.tab;
    tab.group = group;
    this.tabs.add(tab);
    tab.timings = hello.timings;
    this.startPinging(tab);
    const session = hello.session;
    if (session && tab.entry?.userId !== session.user.id) {
      // A tab that shows a session (a restarted host, a page back from bfcache) stays that user.
      tab.ready = this.bindToUser(tab, group, session, true).then(
        () => undefined,
        (error: unknown) => this.options.onError?.(error),
      );
    }
  }

  private async call(tab: Tab, id: number, command: HostCommand): Promise<void> {
    try {
      await tab.ready;
      const value = await this.run(tab, command);
      tab.port.post({ t: 'reply', id, ok: true, value });
    } catch (error) {
      tab.port.post({ t: 'reply', id, ok: false, error: toChatError(error).toJSON() });
    }
  }

  private async run(tab: Tab, command: HostCommand): Promise<unknown> {
    const group = tab.group;
    if (!group) throw new ChatError('CLOSED', 'this tab said bye');
    const entry = tab.entry;
    if (entry) {
      if (command.type === 'resume') {
        await entry.ready;
        return entry.host.snapshot().session;
      }
      // Signing in as someone else switches this tab only: the user's other tabs keep their host.
      if (command.type === 'login' || command.type === 'signUp') return this.login(tab, group, command);
      return entry.host.handle(command);
    }
    switch (command.type) {
      case 'snapshot':
        return EMPTY_SNAPSHOT;
      case 'cachedMessages':
        return [];
      case 'logout':
      case 'reconnect':
        return undefined;
      case 'resume': {
        const stored = command.session ?? (await (await group.storage).sessions.latest(group.config.url));
        if (!stored) return null;
        const bound = await this.bindToUser(tab, group, { user: stored.user, token: stored.token });
        return bound.host.snapshot().session;
      }
      case 'login':
      case 'signUp':
        return this.login(tab, group, command);
      default:
        throw new ChatError('UNAUTHENTICATED', 'not signed in');
    }
  }

  /**
   * A sign-in by a tab runs on a fresh host; the tab moves to it (or, when that user has a
   * host here already, to that one) only once it succeeded, so a failed sign-in leaves the
   * tab as it was: signed out, or still the user it showed.
   */
  private async login(tab: Tab, group: Group, command: Extract<HostCommand, { type: 'login' | 'signUp' }>): Promise<unknown> {
    const entry = await this.createEntry(group, null);
    let user;
    try {
      user = await entry.host.handle(command);
    } catch (error) {
      this.closeEntry(entry);
      throw error;
    }
    const existing = group.byUser.get(user.id);
    if (existing && existing !== entry && !existing.closed) {
      this.closeEntry(entry);
      this.bind(tab, existing);
    } else if (!entry.closed) {
      entry.userId = user.id;
      group.byUser.set(user.id, entry);
      this.bind(tab, entry);
    }
    // The tab left while signing in: its host must not stay up for nobody.
    if (!tab.id) this.forget(tab);
    return user;
  }

  /** Binds a tab to the host of `session`'s user, starting that host from the session if there is none. */
  private async bindToUser(tab: Tab, group: Group, session: Session, resync = false): Promise<Entry> {
    let entry = group.byUser.get(session.user.id);
    if (!entry) {
      const storage = await group.storage;
      entry = group.byUser.get(session.user.id);
      if (!entry) {
        entry = this.makeEntry(group, storage, session.user.id);
        group.byUser.set(session.user.id, entry);
        const host = entry.host;
        entry.ready = host.handle({ type: 'resume', session }).catch(() => null);
      }
    }
    this.bind(tab, entry, resync);
    await entry.ready;
    return entry;
  }

  /** `resync`: the tab was away from its host and may have missed events (see HostEvent 'resync'). */
  private bind(tab: Tab, entry: Entry, resync = false): void {
    if (tab.entry === entry) return;
    this.unbind(tab);
    if (resync) tab.port.post({ t: 'event', event: { type: 'resync' } });
    tab.entry = entry;
    entry.tabs.add(tab);
    clearTimeout(entry.grace);
    entry.grace = undefined;
    // A tab joining a running host learns its state at once; later changes come as events. A
    // host still starting (a restart, a new leader) has no session or rooms yet: it sends
    // them once read, so the tab is neither signed out nor blanked meanwhile.
    for (const event of snapshotEvents(entry.host.snapshot())) {
      if (event.type === 'session' && !event.session) continue;
      tab.port.post({ t: 'event', event });
    }
  }

  private unbind(tab: Tab): void {
    const entry = tab.entry;
    if (!entry) return;
    tab.entry = null;
    entry.tabs.delete(tab);
    if (entry.tabs.size > 0 || entry.closed) return;
    if (entry.userId === null) {
      this.closeEntry(entry);
      return;
    }
    // The socket outlives its last tab a little: a reload or a quick new tab reuses it.
    entry.grace = setTimeout(() => this.closeEntry(entry), entry.group.config.hostGraceMs ?? HOST_OPTIONS.hostGraceMs.default);
  }

  /** The tab is gone (bye, missed pings, channel closed): it keeps no host alive. */
  private forget(tab: Tab): void {
    clearInterval(tab.pinger);
    tab.pinger = undefined;
    this.unbind(tab);
    tab.id = null;
    tab.group = null;
    // Ports never say they closed (Chromium), so a gone tab must not stay listed; if the same
    // port says hello again (a page back from the bfcache), hello lists it again.
    this.tabs.delete(tab);
  }

  private startPinging(tab: Tab): void {
    clearInterval(tab.pinger);
    const pingIntervalMs = Math.max(20, tab.timings.pingIntervalMs);
    const maxMissedPings = Math.max(1, tab.timings.maxMissedPings);
    tab.pinger = setInterval(() => {
      if (this.now() - tab.lastHeard > pingIntervalMs * maxMissedPings) {
        // A crashed or frozen tab: it must not keep a socket open.
        this.forget(tab);
        return;
      }
      tab.port.post({ t: 'ping' });
    }, pingIntervalMs);
  }

  // ---------------------------------------------------------------- hosts

  private groupFor(config: HostConfig): Group {
    const key = configKey(config);
    let group = this.groups.get(key);
    if (!group) {
      const storage = (this.options.openStorage ?? defaultStorage)(config);
      group = { key, config, storage, byUser: new Map(), entries: new Set() };
      this.groups.set(key, group);
    }
    return group;
  }

  private async createEntry(group: Group, userId: string | null): Promise<Entry> {
    return this.makeEntry(group, await group.storage, userId);
  }

  private makeEntry(group: Group, storage: ChatStorage, userId: string | null): Entry {
    const entry: Entry = {
      group,
      host: undefined as unknown as ChatHost,
      userId,
      tabs: new Set(),
      ready: Promise.resolve(),
      grace: undefined,
      unsubscribe: () => undefined,
      closed: false,
    };
    const host = (this.options.createHost ?? createHost)(group.config, sharedStorage(storage));
    (entry as { host: ChatHost }).host = host;
    entry.unsubscribe = host.subscribe((event) => {
      for (const tab of entry.tabs) tab.port.post({ t: 'event', event });
      if (event.type === 'session' && event.session === null) {
        // Signed out (or revoked): the tabs belong to no one now; the next login picks a host anew.
        for (const tab of [...entry.tabs]) {
          tab.entry = null;
          entry.tabs.delete(tab);
        }
        queueMicrotask(() => this.closeEntry(entry));
      }
    });
    group.entries.add(entry);
    return entry;
  }

  private closeEntry(entry: Entry): void {
    if (entry.closed) return;
    entry.closed = true;
    clearTimeout(entry.grace);
    entry.unsubscribe();
    for (const tab of entry.tabs) tab.entry = null;
    entry.tabs.clear();
    const { group } = entry;
    if (entry.userId !== null && group.byUser.get(entry.userId) === entry) group.byUser.delete(entry.userId);
    group.entries.delete(entry);
    entry.host.close();
    if (group.entries.size === 0 && ![...this.tabs].some((tab) => tab.group === group)) {
      this.groups.delete(group.key);
      void group.storage.then((storage) => storage.close(), () => undefined);
    }
  }
}

function defaultStorage(config: HostConfig): Promise<ChatStorage> {
  return openStorage({ kind: config.storage });
}

/** The storage of one group as one host sees it: closing it is the hub's job, once its last host closed. */
function sharedStorage(storage: ChatStorage): ChatStorage {
  return { kind: storage.kind, outbox: storage.outbox, drafts: storage.drafts, cache: storage.cache, sessions: storage.sessions, close() {} };
}
