import type { BroadcastChannelConstructor, BroadcastChannelLike, EventTargetLike, LockManagerLike } from '../contract/platform.js';
import type { HostHub, HostHubOptions } from './host-hub.js';
import { type HostMessage, type TabMessage, isHostMessage, isTabMessage, randomId } from './messages.js';
import type { Connect } from './port-link.js';

export interface LeaderElectionOptions {
  /** Tabs of one scope (one server url) elect one leader: lock `chat:leader:<scope>`. */
  scope: string;
  BroadcastChannel: BroadcastChannelConstructor;
  locks: LockManagerLike;
  hub?: HostHubOptions;
  /** Where pagehide/pageshow are heard; default globalThis. */
  target?: EventTargetLike | undefined;
}

/** What goes over the BroadcastChannel: a link message and who it is for. */
interface Envelope {
  k: 'chat-sdk:link';
  /** 'host' (whoever leads), '*' (every tab) or a tab id. */
  to: string;
  from: string;
  m: TabMessage | HostMessage;
}

function isEnvelope(data: unknown): data is Envelope {
  const d = data as Partial<Envelope> | null;
  return typeof d === 'object' && d !== null && d.k === 'chat-sdk:link' && typeof d.to === 'string' && typeof d.from === 'string';
}

/**
 * Leader mode, where SharedWorker is missing: every tab queues for the Web Lock
 * `chat:leader:<scope>`; the tab holding it runs the hosts (a HostHub) and the others reach
 * it over BroadcastChannel. When the leader goes (pagehide, close, crash) the lock passes
 * to the next tab in the queue, which announces itself; every tab says hello to it and
 * sends again what the old leader never answered.
 */
export class LeaderElection {
  readonly tabId = randomId();
  private readonly channel: BroadcastChannelLike;
  private hub: HostHub | null = null;
  private local: ReturnType<HostHub['connect']> | null = null;
  private readonly remote = new Map<string, ReturnType<HostHub['connect']>>();
  private receiveOwn: ((message: HostMessage) => void) | null = null;
  private resign: (() => void) | null = null;
  private abort: AbortController | null = null;
  private hidden = false;
  private closed = false;

  private readonly onPageHide = () => {
    this.hidden = true;
    this.stand();
  };
  private readonly onPageShow = () => {
    if (!this.hidden || this.closed) return;
    this.hidden = false;
    this.campaign();
  };

  constructor(private readonly options: LeaderElectionOptions) {
    this.channel = new options.BroadcastChannel(`chat-sdk:leader:${options.scope}`);
    this.channel.addEventListener('message', (event) => this.onChannel(event.data));
    const target = options.target ?? (globalThis as Partial<EventTargetLike>);
    target.addEventListener?.('pagehide', this.onPageHide);
    target.addEventListener?.('pageshow', this.onPageShow);
    this.campaign();
  }

  /** Whether this tab runs the hosts now. */
  get leading(): boolean {
    return this.hub !== null;
  }

  /** The channel of this tab's own link: to the local hub while leading, else over BroadcastChannel. */
  readonly connect: Connect = (receive) => {
    this.receiveOwn = receive;
    return {
      post: (message) => {
        if (this.closed) return;
        if (this.hub) {
          this.local ??= this.hub.connect({ post: (m) => queueMicrotask(() => this.receiveOwn?.(m)) });
          this.local.receive(message);
        } else {
          this.post('host', message);
        }
      },
      close: () => undefined,
    };
  };

  close(): void {
    if (this.closed) return;
    this.stand();
    this.closed = true;
    const target = this.options.target ?? (globalThis as Partial<EventTargetLike>);
    target.removeEventListener?.('pagehide', this.onPageHide);
    target.removeEventListener?.('pageshow', this.onPageShow);
    this.channel.close();
    this.receiveOwn = null;
  }

  private campaign(): void {
    if (this.closed || this.abort || this.hub) return;
    const abort = new AbortController();
    this.abort = abort;
    this.options.locks
      .request(`chat:leader:${this.options.scope}`, { signal: abort.signal }, () => {
        if (this.abort === abort) this.abort = null;
        if (this.closed || this.hidden || abort.signal.aborted) return undefined;
        this.lead();
        return new Promise<void>((resolve) => (this.resign = resolve));
      })
      .catch(() => undefined); // aborted: this tab left the queue
  }

  /** Leaves the queue, or stops leading: closes the hosts (their sockets) and gives up the lock. */
  private stand(): void {
    this.abort?.abort();
    this.abort = null;
    this.hub?.close();
    this.hub = null;
    this.local = null;
    this.remote.clear();
    // Also while the hub's code is still loading: the lock must never outlive the lead.
    this.resign?.();
    this.resign = null;
  }

  private lead(): void {
    // The hosts' code loads only in the tab that leads.
    void import('./host-hub.js').then(({ HostHub }) => {
      if (this.closed || this.hidden || !this.resign || this.hub) return; // stood down meanwhile
      this.hub = new HostHub(this.options.hub);
      // Every tab, this one included, says hello to the new hosts and sends again what is pending.
      this.post('*', { t: 'reset' });
      this.receiveOwn?.({ t: 'reset' });
    });
  }

  private onChannel(data: unknown): void {
    if (this.closed || !isEnvelope(data)) return;
    if (data.to === this.tabId || data.to === '*') {
      if (isHostMessage(data.m)) this.receiveOwn?.(data.m);
      return;
    }
    if (data.to !== 'host' || !this.hub || !isTabMessage(data.m)) return;
    let tab = this.remote.get(data.from);
    if (!tab) {
      const to = data.from;
      tab = this.hub.connect({ post: (m) => this.post(to, m) });
      this.remote.set(to, tab);
    }
    tab.receive(data.m);
    if (data.m.t === 'bye') {
      tab.disconnect();
      this.remote.delete(data.from);
    }
  }

  private post(to: string, m: TabMessage | HostMessage): void {
    const envelope: Envelope = { k: 'chat-sdk:link', to, from: this.tabId, m };
    this.channel.postMessage(envelope);
  }
}
