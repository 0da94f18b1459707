import { ChatError } from '../../protocol/index.js';
import type { HostCommand, HostSnapshot } from '../../contract/host-api.js';
import { type HelloMessage, type TabMessage, randomId } from '../messages.js';
import { type HostGroup, HostRegistry, type HostRegistryOptions, type HostedTab } from './host-registry.js';
import { TabEndpoint, type TabPort } from './tab-endpoint.js';

export type { TabPort } from './tab-endpoint.js';

export interface HostHubOptions extends HostRegistryOptions {
  now?: () => number;
  /** Told about faults that fail no call (a storage that cannot be read). */
  onError?: (error: unknown) => void;
}

/** One connected tab: its end of the link, and where it sits among the hosts. */
interface Tab extends HostedTab {
  readonly endpoint: TabEndpoint;
  /** The group of the config it said hello with; null before, and once it is gone. */
  group: HostGroup | null;
}

const EMPTY_SNAPSHOT: HostSnapshot = { connection: { status: 'idle', attempt: 0 }, session: null, rooms: null, outbox: [] };

/**
 * The connection hosts of one SharedWorker or one leader tab, and the tabs attached to
 * them: each tab's link end (`TabEndpoint`) on one side, the hosts by config and user
 * (`HostRegistry`) on the other. A tab not signed in belongs to no host until `resume`,
 * `login` or `signUp` says who it is.
 */
export class HostHub {
  readonly bootId = randomId();
  /** The tabs that said hello and are not gone. */
  private readonly tabs = new Set<Tab>();
  private readonly registry: HostRegistry;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: HostHubOptions = {}) {
    this.now = options.now ?? Date.now;
    this.registry = new HostRegistry(options, (group) => [...this.tabs].some((tab) => tab.group === group));
  }

  /** Attaches one channel to a tab; feed it the tab's messages, call `disconnect` when the channel ends. */
  connect(port: TabPort): { receive(message: TabMessage): void; disconnect(): void } {
    const endpoint = new TabEndpoint(
      port,
      {
        hello: (hello) => this.hello(tab, hello),
        run: (command) => this.run(tab, command),
        forget: () => this.forget(tab),
      },
      this.bootId,
      this.now,
    );
    const tab: Tab = {
      port,
      endpoint,
      group: null,
      entry: null,
      get attached() {
        return endpoint.attached;
      },
    };
    return {
      receive: (message) => {
        if (!this.closed) endpoint.receive(message);
      },
      disconnect: () => this.forget(tab),
    };
  }

  /** How many hosts are running (each with its own socket once signed in). */
  hostCount(): number {
    return this.registry.hostCount();
  }

  /** Closes every host (their sockets) and forgets every tab. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const tab of [...this.tabs]) this.forget(tab);
    this.tabs.clear();
    this.registry.closeAll();
  }

  private hello(tab: Tab, hello: HelloMessage): void {
    const group = this.registry.groupFor(hello.config);
    if (tab.group !== group) this.forget(tab);
    tab.endpoint.attach(hello);
    tab.group = group;
    this.tabs.add(tab);
    const session = hello.session;
    if (session && tab.entry?.userId !== session.user.id) {
      // A tab that shows a session (a restarted host, a page back from bfcache) stays that user.
      tab.endpoint.ready = this.registry.bindToUser(tab, group, session, true).then(
        () => undefined,
        (error: unknown) => this.options.onError?.(error),
      );
    }
  }

  /** What a tab's call does: its host runs it; a tab of no host may only look, resume or sign in. */
  private async run(tab: Tab, command: HostCommand): Promise<unknown> {
    const group = tab.group;
    if (!group) throw new ChatError('CLOSED', 'this tab said bye');
    // A sign-in runs on a fresh host; signed in already, it switches this tab only (the
    // user's other tabs keep their host).
    if (command.type === 'login' || command.type === 'signUp') return this.registry.login(tab, group, command);
    const entry = tab.entry;
    if (entry) {
      if (command.type === 'resume') {
        await entry.ready;
        return entry.host.snapshot().session;
      }
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
        const bound = await this.registry.bindToUser(tab, group, { user: stored.user, token: stored.token });
        return bound.host.snapshot().session;
      }
      default:
        throw new ChatError('UNAUTHENTICATED', 'not signed in');
    }
  }

  /** The tab is gone (bye, missed pings, channel closed): it keeps no host alive. */
  private forget(tab: Tab): void {
    tab.endpoint.detach();
    this.registry.unbind(tab);
    tab.group = null;
    // Ports never say they closed (Chromium), so a gone tab must not stay listed; if the same
    // port says hello again (a page back from the bfcache), hello lists it again.
    this.tabs.delete(tab);
  }
}
