import type { BroadcastChannelConstructor, BroadcastChannelLike, EventTargetLike, LockManagerLike } from '../contract/platform.js';
import type { Hub } from './worker-hub.js';
import { type HostMessage, type TabMessage, isHostMessage, randomId, LINK_PROTOCOL } from './messages.js';
import { isTabMessage } from './is-tab-message.js';
import type { Connect } from './port-link.js';

export interface LeaderElectionOptions {
  /** Tabs of one scope (one server url) elect one leader: lock `chat:leader:<link protocol>:<scope>` (tabs of another link protocol elect their own). */
  scope: string;
  BroadcastChannel: BroadcastChannelConstructor;
  locks: LockManagerLike;
  /**
   * Starts the hosts this tab runs while it leads: a HostHub in the tab's dedicated worker
   * (the page never loads the host's code), or in process where the app passed `inTab`.
   */
  startHub: () => Hub | Promise<Hub>;
  /** Where pagehide/pageshow are heard; default globalThis. */
  target?: EventTargetLike | undefined;
  /** This tab's id on the channel; default a random one. */
  tabId?: string;
}

/** What goes over the BroadcastChannel: a link message and who it is for. */
interface Envelope {
  kind: 'chat-sdk:link';
  /** 'host' (whoever leads), '*' (every tab) or a tab id. */
  to: string;
  /** The sending tab's id. */
  from: string;
  message: TabMessage | HostMessage;
}

function isEnvelope(data: unknown): data is Envelope {
  const d = data as Partial<Envelope> | null;
  return typeof d === 'object' && d !== null && d.kind === 'chat-sdk:link' && typeof d.to === 'string' && typeof d.from === 'string';
}

/**
 * Leader mode, where SharedWorker is missing: every tab queues for the Web Lock
 * `chat:leader:<scope>`; the tab holding it runs the hosts (a HostHub, in its dedicated
 * worker) and the others reach it over BroadcastChannel. When the leader goes (pagehide,
 * close, crash) the lock passes to the next tab in the queue, which announces itself; every
 * tab says hello to it and sends again what the old leader never answered.
 */
export class LeaderElection {
  readonly tabId: string;
  private readonly channel: BroadcastChannelLike;
  /** The hosts, while this tab leads. */
  private hub: Hub | null = null;
  /** This tab's own channel into its hub, while it leads. */
  private ownTab: ReturnType<Hub['connect']> | null = null;
  /** The other tabs' channels into this tab's hub, by tab id, while it leads. */
  private readonly otherTabs = new Map<string, ReturnType<Hub['connect']>>();
  /** Hands a host message to this tab's own link. */
  private deliverToOwnLink: ((message: HostMessage) => void) | null = null;
  /** Gives up the lock (ends the lock callback's promise), while this tab holds it. */
  private releaseLock: (() => void) | null = null;
  /** Aborts the lock request, while this tab waits in the queue. */
  private lockRequest: AbortController | null = null;
  private hidden = false;
  private closed = false;

  private readonly onPageHide = () => {
    this.hidden = true;
    this.stepDown();
  };
  private readonly onPageShow = () => {
    if (!this.hidden || this.closed) return;
    this.hidden = false;
    this.queueForLeadership();
  };

  constructor(private readonly options: LeaderElectionOptions) {
    this.tabId = options.tabId ?? randomId();
    this.channel = new options.BroadcastChannel(`chat-sdk:leader:${LINK_PROTOCOL}:${options.scope}`);
    this.channel.addEventListener('message', (event) => this.onBroadcast(event.data));
    const target = options.target ?? (globalThis as Partial<EventTargetLike>);
    target.addEventListener?.('pagehide', this.onPageHide);
    target.addEventListener?.('pageshow', this.onPageShow);
    this.queueForLeadership();
  }

  /** The channel of this tab's own link: to the local hub while leading, else over BroadcastChannel. */
  readonly connect: Connect = (receive) => {
    this.deliverToOwnLink = receive;
    return {
      post: (message) => {
        if (this.closed) return;
        if (this.hub) {
          this.ownTab ??= this.hub.connect({ post: (reply) => queueMicrotask(() => this.deliverToOwnLink?.(reply)) });
          this.ownTab.receive(message);
        } else {
          this.broadcast('host', message);
        }
      },
      close: () => undefined,
    };
  };

  close(): void {
    if (this.closed) return;
    this.stepDown();
    this.closed = true;
    const target = this.options.target ?? (globalThis as Partial<EventTargetLike>);
    target.removeEventListener?.('pagehide', this.onPageHide);
    target.removeEventListener?.('pageshow', this.onPageShow);
    this.channel.close();
    this.deliverToOwnLink = null;
  }

  /** Waits in the queue for the leader lock (`chat:leader:<scope>`); holding it, this tab leads until it steps down. */
  private queueForLeadership(): void {
    if (this.closed || this.lockRequest || this.hub) return;
    const lockRequest = new AbortController();
    this.lockRequest = lockRequest;
    this.options.locks
      .request(`chat:leader:${LINK_PROTOCOL}:${this.options.scope}`, { signal: lockRequest.signal }, () => {
        if (this.lockRequest === lockRequest) this.lockRequest = null;
        if (this.closed || this.hidden || lockRequest.signal.aborted) return undefined;
        this.startLeading();
        return new Promise<void>((resolve) => (this.releaseLock = resolve));
      })
      .catch(() => undefined); // aborted: this tab left the queue
  }

  /** Leaves the queue, or stops leading: closes the hosts (their sockets) and gives up the lock. */
  private stepDown(): void {
    this.lockRequest?.abort();
    this.lockRequest = null;
    this.hub?.close();
    this.hub = null;
    this.ownTab = null;
    this.otherTabs.clear();
    // Also while the hub's code is still loading: the lock must never outlive the lead.
    this.releaseLock?.();
    this.releaseLock = null;
  }

  /** Holding the lock: starts the hosts (a HostHub) and tells every tab to say hello to them. */
  private startLeading(): void {
    void Promise.resolve(this.options.startHub()).then((hub) => {
      if (this.closed || this.hidden || !this.releaseLock || this.hub) {
        hub.close(); // stepped down meanwhile
        return;
      }
      this.hub = hub;
      // Every tab, this one included, says hello to the new hosts and sends again what is pending.
      this.broadcast('*', { type: 'reset' });
      this.deliverToOwnLink?.({ type: 'reset' });
    });
  }

  private onBroadcast(data: unknown): void {
    if (this.closed || !isEnvelope(data)) return;
    if (data.to === this.tabId || data.to === '*') {
      if (isHostMessage(data.message)) this.deliverToOwnLink?.(data.message);
      return;
    }
    if (data.to !== 'host' || !this.hub || !isTabMessage(data.message)) return;
    let tab = this.otherTabs.get(data.from);
    if (!tab) {
      const to = data.from;
      tab = this.hub.connect({ post: (message) => this.broadcast(to, message) });
      this.otherTabs.set(to, tab);
    }
    tab.receive(data.message);
    if (data.message.type === 'bye') {
      tab.disconnect();
      this.otherTabs.delete(data.from);
    }
  }

  /** Sends a link message over the BroadcastChannel to `to`: 'host', '*' or a tab id. */
  private broadcast(to: string, message: TabMessage | HostMessage): void {
    const envelope: Envelope = { kind: 'chat-sdk:link', to, from: this.tabId, message };
    this.channel.postMessage(envelope);
  }
}
