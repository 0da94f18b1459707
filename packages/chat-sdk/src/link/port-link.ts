import { ChatError, toChatError } from '../protocol/index.js';
import type { EventTargetLike } from '../contract/platform.js';
import type { HostConfig } from '../contract/host-options.js';
import { type HostMessage, LINK_PROTOCOL, type LinkTimings, SDK_VERSION, type TabMessage, randomId } from './messages.js';
import type { CommandResult, HostCommand, HostEvent, HostLink, Session } from '../contract/host-api.js';

/** How a fallback reason for another version starts (a forced mode still falls back to in process then). */
export const VERSION_MISMATCH = 'version mismatch';

/** One channel to a shared host; `connect` may be called again to make a new one. */
export interface LinkEndpoint {
  post(message: TabMessage): void;
  close(): void;
}

export type Connect = (receive: (message: HostMessage) => void) => LinkEndpoint;

export interface PortLinkOptions {
  /** Opens a channel to the host (again, when the host fell silent). */
  connect: Connect;
  config: HostConfig;
  timings: LinkTimings;
  transport: 'shared-worker' | 'leader';
  /** This tab's id on the host; default a random one. */
  tabId?: string;
  /**
   * The link to run on when the host cannot be shared (another version, no worker): in
   * process where that is allowed, or one that fails every call when the mode was forced.
   */
  fallback: (reason: string) => { link: HostLink; transport: 'shared-worker' | 'leader' | 'in-tab' };
  /** Told once when the link falls back to in process, with the reason. */
  onFallback?: (reason: string) => void;
  /** Where pagehide/pageshow are heard; default globalThis. */
  target?: EventTargetLike | undefined;
  now?: () => number;
}

interface Pending {
  command: HostCommand;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  /** The bootId of the host this call was last sent to; null while unsent. */
  sentTo: string | null;
}

/**
 * A tab's link to a shared host (a SharedWorker, or the leader tab). Calls made before
 * the host answers wait; calls a restarted host (new `bootId`) never saw are sent again,
 * which is safe because sends are idempotent by `clientId`. The link says `bye` on
 * pagehide and hello on pageshow, pings the host and answers its pings, and opens a new
 * channel when the host falls silent.
 */
export class PortLink implements HostLink {
  readonly tabId: string;
  transport: 'shared-worker' | 'leader' | 'in-tab';
  /** Resolves once the host welcomed this tab, or the link fell back to in process. */
  readonly ready: Promise<void>;

  private readonly listeners = new Set<(event: HostEvent) => void>();
  private readonly pending = new Map<number, Pending>();
  private readonly now: () => number;
  private endpoint: LinkEndpoint | null = null;
  private bootId: string | null = null;
  private welcomed = false;
  private session: Session | null = null;
  private nextId = 1;
  private lastHeard: number;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private fallback: HostLink | null = null;
  private hidden = false;
  private closed = false;
  private markReady!: () => void;

  private readonly onPageHide = () => {
    if (this.closed || this.fallback) return;
    this.hidden = true;
    this.welcomed = false;
    clearInterval(this.pinger);
    this.endpoint?.post({ t: 'bye' });
  };

  private readonly onPageShow = () => {
    if (this.closed || this.fallback || !this.hidden) return;
    this.hidden = false;
    this.hello();
    this.startPinging();
  };

  constructor(private readonly options: PortLinkOptions) {
    this.transport = options.transport;
    this.tabId = options.tabId ?? randomId();
    this.now = options.now ?? Date.now;
    this.lastHeard = this.now();
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    const target = options.target ?? (globalThis as Partial<EventTargetLike>);
    target.addEventListener?.('pagehide', this.onPageHide);
    target.addEventListener?.('pageshow', this.onPageShow);
    this.open();
  }

  async call<C extends HostCommand>(command: C): Promise<CommandResult<C>> {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    if (this.fallback) return this.fallback.call(command);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const pending: Pending = { command, resolve: resolve as (value: unknown) => void, reject, sentTo: null };
      this.pending.set(id, pending);
      if (this.welcomed) this.send(id, pending);
    });
  }

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const target = this.options.target ?? (globalThis as Partial<EventTargetLike>);
    target.removeEventListener?.('pagehide', this.onPageHide);
    target.removeEventListener?.('pageshow', this.onPageShow);
    clearInterval(this.pinger);
    if (!this.hidden) this.endpoint?.post({ t: 'bye' });
    this.endpoint?.close();
    this.endpoint = null;
    this.fallback?.close();
    const error = new ChatError('CLOSED', 'the client was closed');
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.listeners.clear();
  }

  /** Runs on the fallback link from now on (a host of another version, or none could start). */
  fallBack(reason: string): void {
    if (this.closed || this.fallback) return;
    clearInterval(this.pinger);
    if (this.welcomed) this.endpoint?.post({ t: 'bye' });
    this.endpoint?.close();
    this.endpoint = null;
    this.welcomed = false;
    this.options.onFallback?.(reason);
    const { link: fallback, transport } = this.options.fallback(reason);
    this.fallback = fallback;
    this.transport = transport;
    fallback.subscribe((event) => this.dispatch(event));
    for (const pending of this.pending.values()) fallback.call(pending.command).then(pending.resolve, pending.reject);
    this.pending.clear();
    this.markReady();
  }

  /** Says hello again (a new leader was elected, or the host asked). */
  rehello(): void {
    if (this.closed || this.fallback || this.hidden) return;
    this.hello();
  }

  // ---------------------------------------------------------------- internals

  private open(): void {
    if (this.endpoint) {
      // Replies to calls sent on the old channel can no longer arrive: send them again.
      for (const pending of this.pending.values()) pending.sentTo = null;
      this.endpoint.close();
    }
    this.welcomed = false;
    this.endpoint = this.options.connect((message) => this.receive(message));
    this.lastHeard = this.now();
    this.hello();
    this.startPinging();
  }

  private hello(): void {
    this.endpoint?.post({
      t: 'hello',
      tab: this.tabId,
      protocol: LINK_PROTOCOL,
      sdk: SDK_VERSION,
      config: this.options.config,
      timings: this.options.timings,
      session: this.session,
    });
  }

  private send(id: number, pending: Pending): void {
    pending.sentTo = this.bootId;
    this.endpoint?.post({ t: 'call', id, command: pending.command });
  }

  private startPinging(): void {
    clearInterval(this.pinger);
    const { pingIntervalMs, maxMissedPings } = this.options.timings;
    this.pinger = setInterval(() => {
      if (this.now() - this.lastHeard > pingIntervalMs * maxMissedPings) {
        // The host fell silent (a worker that died, a leader that crashed): start a new one.
        this.open();
        return;
      }
      if (this.welcomed) this.endpoint?.post({ t: 'ping' });
      else this.hello(); // no host yet (no leader elected): keep asking
    }, pingIntervalMs);
  }

  private receive(message: HostMessage): void {
    if (this.closed || this.fallback) return;
    this.lastHeard = this.now();
    switch (message.t) {
      case 'welcome':
        if (!message.accepted || message.protocol !== LINK_PROTOCOL || message.sdk !== SDK_VERSION) {
          this.fallBack(`${VERSION_MISMATCH}: the shared host speaks link protocol ${message.protocol} of SDK ${message.sdk}; this tab has ${LINK_PROTOCOL} of ${SDK_VERSION}`);
          return;
        }
        this.bootId = message.bootId;
        this.welcomed = true;
        // Whatever a new host (or the same host, after a reset) did not get is sent again.
        for (const [id, pending] of this.pending) if (pending.sentTo !== this.bootId) this.send(id, pending);
        this.markReady();
        return;
      case 'reply': {
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        if (message.ok) pending.resolve(message.value);
        else pending.reject(toChatError(message.error));
        return;
      }
      case 'event':
        this.dispatch(message.event);
        return;
      case 'ping':
        if (!this.hidden) this.endpoint?.post({ t: 'pong' });
        return;
      case 'pong':
        return;
      case 'reset':
        for (const id of message.ids ?? []) {
          const pending = this.pending.get(id);
          if (pending) pending.sentTo = null;
        }
        this.welcomed = false;
        if (!this.hidden) this.hello(); // a hidden page says hello on pageshow
        return;
    }
  }

  private dispatch(event: HostEvent): void {
    if (event.type === 'session') this.session = event.session;
    for (const listener of [...this.listeners]) listener(event);
  }
}
