import { ChatError } from '../../protocol/index.js';
import { type HostCommand, type Session, snapshotEvents } from '../../contract/host-api.js';
import { HOST_OPTIONS, type HostConfig, type HostOptionName } from '../../contract/host-options.js';
import type { ChatHost } from '../../host/chat-host.js';
import { createHost } from '../../host/create-host.js';
import type { ChatStorage } from '../../storage/types.js';
import { borrowedStorage, openGroupStorage } from './group-storage.js';
import type { TabPort } from './tab-endpoint.js';

/** Tabs share a host only when every setting matches: this is the key they are compared by. */
export function configKey(config: HostConfig): string {
  return JSON.stringify([config.url, config.storage, ...(Object.keys(HOST_OPTIONS) as HostOptionName[]).map((name) => config[name] ?? null)]);
}

export interface HostRegistryOptions {
  /** Builds a host for a config; default a ChatHost on the global WebSocket and fetch. */
  createHost?: (config: HostConfig, storage: ChatStorage) => ChatHost;
  /** Opens the storage shared by the hosts of one config; default `openStorage(config.storage)`. */
  openStorage?: (config: HostConfig) => Promise<ChatStorage>;
}

/** A tab as the registry sees it: where its host's events go, and which host it is bound to. */
export interface HostedTab {
  readonly port: TabPort;
  /** False once the tab is gone (bye, missed pings): it keeps no host alive. */
  readonly attached: boolean;
  /** The host this tab is bound to; null while it is signed out. */
  entry: HostEntry | null;
}

/** The hosts of one config (server url, storage kind, timings): one per signed-in user. */
export interface HostGroup {
  readonly key: string;
  readonly config: HostConfig;
  readonly storage: Promise<ChatStorage>;
  readonly byUser: Map<string, HostEntry>;
  readonly entries: Set<HostEntry>;
}

/** One running host of a group, the user it serves and the tabs bound to it. */
export interface HostEntry {
  readonly group: HostGroup;
  readonly host: ChatHost;
  /** null while a login on this host has not said who the user is. */
  userId: string | null;
  readonly tabs: Set<HostedTab>;
  /** The first resume of a host made for a stored session. */
  ready: Promise<unknown>;
  /** Runs while the host has no tab: it closes the host unless a tab comes back first. */
  graceTimer: ReturnType<typeof setTimeout> | undefined;
  unsubscribe: () => void;
  closed: boolean;
}

/**
 * The running hosts, keyed by config and user: tabs of one user share one host (one socket),
 * a tab signed in as someone else gets its own, and tabs with other settings never share.
 * Hosts of one config share one storage, closed when the group's last host closed and no tab
 * uses the group any more (`groupInUse`).
 */
export class HostRegistry {
  private readonly groups = new Map<string, HostGroup>();
  /** Closed (a leader stepping down, a worker shutting): no host may start after that. */
  private closed = false;

  constructor(
    private readonly options: HostRegistryOptions,
    /** Whether a tab still said hello with this group's config (and is not gone). */
    private readonly groupInUse: (group: HostGroup) => boolean,
  ) {}

  /** The group of a config, made (its storage opening) on first use. */
  groupFor(config: HostConfig): HostGroup {
    const key = configKey(config);
    let group = this.groups.get(key);
    if (!group) {
      const storage = (this.options.openStorage ?? openGroupStorage)(config);
      group = { key, config, storage, byUser: new Map(), entries: new Set() };
      this.groups.set(key, group);
    }
    return group;
  }

  /** How many hosts are running (each with its own socket once signed in). */
  hostCount(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.entries.size;
    return n;
  }

  /** Closes every host (their sockets). */
  closeAll(): void {
    this.closed = true;
    for (const group of [...this.groups.values()]) for (const entry of [...group.entries]) this.closeHost(entry);
  }

  /**
   * A sign-in by a tab runs on a fresh host; the tab moves to it (or, when that user has a
   * host here already, to that one) only once it succeeded, so a failed sign-in leaves the
   * tab as it was: signed out, or still the user it showed.
   */
  async login(tab: HostedTab, group: HostGroup, command: Extract<HostCommand, { type: 'login' | 'signUp' }>): Promise<unknown> {
    const entry = await this.openHost(group, null);
    let user;
    try {
      user = await entry.host.handle(command);
    } catch (error) {
      this.closeHost(entry);
      throw error;
    }
    const existing = group.byUser.get(user.id);
    if (existing && existing !== entry && !existing.closed) {
      this.closeHost(entry);
      this.bind(tab, existing);
    } else if (!entry.closed) {
      entry.userId = user.id;
      group.byUser.set(user.id, entry);
      this.bind(tab, entry);
    }
    // The tab left while signing in: its host must not stay up for nobody.
    if (!tab.attached) this.unbind(tab);
    return user;
  }

  /** Binds a tab to the host of `session`'s user, starting that host from the session if there is none. */
  async bindToUser(tab: HostedTab, group: HostGroup, session: Session, resync = false): Promise<HostEntry> {
    let entry = group.byUser.get(session.user.id);
    if (!entry) {
      const storage = await group.storage;
      entry = group.byUser.get(session.user.id);
      if (!entry) {
        entry = this.startHost(group, storage, session.user.id);
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
  bind(tab: HostedTab, entry: HostEntry, resync = false): void {
    if (tab.entry === entry) return;
    this.unbind(tab);
    if (resync) tab.port.post({ type: 'event', event: { type: 'resync' } });
    tab.entry = entry;
    entry.tabs.add(tab);
    clearTimeout(entry.graceTimer);
    entry.graceTimer = undefined;
    // A tab joining a running host learns its state at once; later changes come as events. A
    // host still starting (a restart, a new leader) has no session or rooms yet: it sends
    // them once read, so the tab is neither signed out nor blanked meanwhile.
    for (const event of snapshotEvents(entry.host.snapshot())) {
      if (event.type === 'session' && !event.session) continue;
      tab.port.post({ type: 'event', event });
    }
  }

  /** The tab leaves its host; a host left without tabs closes, at once if nobody signed in, else after the grace period. */
  unbind(tab: HostedTab): void {
    const entry = tab.entry;
    if (!entry) return;
    tab.entry = null;
    entry.tabs.delete(tab);
    if (entry.tabs.size > 0 || entry.closed) return;
    if (entry.userId === null) {
      this.closeHost(entry);
      return;
    }
    // The socket outlives its last tab a little: a reload or a quick new tab reuses it.
    entry.graceTimer = setTimeout(() => this.closeHost(entry), entry.group.config.hostGraceMs ?? HOST_OPTIONS.hostGraceMs.default);
  }

  /** `startHost` once the group's storage is open. */
  private async openHost(group: HostGroup, userId: string | null): Promise<HostEntry> {
    return this.startHost(group, await group.storage, userId);
  }

  private startHost(group: HostGroup, storage: ChatStorage, userId: string | null): HostEntry {
    // A start that waited for storage while the hub closed must not open a second socket.
    if (this.closed) throw new ChatError('CLOSED', 'this host hub was closed');
    const host = (this.options.createHost ?? createHost)(group.config, borrowedStorage(storage));
    const entry: HostEntry = {
      group,
      host,
      userId,
      tabs: new Set(),
      ready: Promise.resolve(),
      graceTimer: undefined,
      unsubscribe: () => undefined,
      closed: false,
    };
    entry.unsubscribe = host.subscribe((event) => {
      for (const tab of entry.tabs) tab.port.post({ type: 'event', event });
      if (event.type === 'session' && event.session === null) {
        // Signed out (or revoked): the tabs belong to no one now; the next login picks a host anew.
        for (const tab of [...entry.tabs]) {
          tab.entry = null;
          entry.tabs.delete(tab);
        }
        queueMicrotask(() => this.closeHost(entry));
      }
    });
    group.entries.add(entry);
    return entry;
  }

  private closeHost(entry: HostEntry): void {
    if (entry.closed) return;
    entry.closed = true;
    clearTimeout(entry.graceTimer);
    entry.unsubscribe();
    for (const tab of entry.tabs) tab.entry = null;
    entry.tabs.clear();
    const { group } = entry;
    if (entry.userId !== null && group.byUser.get(entry.userId) === entry) group.byUser.delete(entry.userId);
    group.entries.delete(entry);
    entry.host.close();
    if (group.entries.size === 0 && !this.groupInUse(group)) {
      this.groups.delete(group.key);
      void group.storage.then((storage) => storage.close(), () => undefined);
    }
  }
}
