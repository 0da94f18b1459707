import { Emitter } from '../contract/emitter.js';
import { ChatError, toChatError } from '../protocol/index.js';
import type { EventTargetLike } from '../contract/platform.js';
import type { HostConfig } from '../contract/host-options.js';
import { type HostMessage, LINK_PROTOCOL, type LinkTimings, SDK_VERSION, type TabMessage, randomId } from './messages.js';
import type { CommandResult, HostCommand, HostEvent, HostLink, Session } from '../contract/host-api.js';

/** How a fallback reason for another version starts (a forced mode still falls back to its own connection then). */
export const VERSION_MISMATCH = 'version mismatch';

/** One channel to a shared host; `connect` may be called again to make a new one. */
export interface LinkChannel {
  post(message: TabMessage): void;
  close(): void;
}

export type Connect = (receive: (message: HostMessage) => void) => LinkChannel;

export interface PortLinkOptions {
  /** Opens a channel to the host (again, when the host fell silent). */
  connect: Connect;
  config: HostConfig;
  timings: LinkTimings;
  /** 'in-tab' where the host is this tab's own worker. */
  transport: 'shared-worker' | 'leader' | 'in-tab';
  /** This tab's id on the host; default a random one. */
  tabId?: string;
  /**
   * The link to run on when the host cannot be shared (another version, no worker): the
   * tab's own connection where there can be one, else one that fails every call.
   */
  fallback: (reason: string) => { link: HostLink; transport: 'shared-worker' | 'leader' | 'in-tab' };
  /** Told once when the link falls back, with the reason. */
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
 * A tab's link to a host in a worker (the SharedWorker, the leader tab's, or its own). Calls made before
 * the host answers wait; calls a restarted host (new `bootId`) never saw are sent again,
 * which is safe because sends are idempotent by `clientId`. The link says `bye` on
 * pagehide and hello on pageshow, pings the host and answers its pings, and opens a new
 * channel when the host falls silent.
 */
export class PortLink implements HostLink {
  readonly tabId: string;
  transport: 'shared-worker' | 'leader' | 'in-tab';
  /** Resolves once the host welcomed this tab, or the link fell back. */
  readonly ready: Promise<void>;

  private readonly emitter = new Emitter<{ event: [HostEvent] }>();
  private readonly pending = new Map<number, Pending>();
  private readonly now: () => number;
  private channel: LinkChannel | null = null;
  private bootId: string | null = null;
  private welcomed = false;
  private session: Session | null = null;
  private nextId = 1;
  private lastHeard: number;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  /** The link this tab runs on after falling back; null while it talks to the shared host. */
  private fallbackLink: HostLink | null = null;
  private hidden = false;
  private closed = false;
  private markReady!: () => void;

  private readonly onPageHide = () => {
    if (this.closed || this.fallbackLink) return;
    this.hidden = true;
    this.welcomed = false;
    clearInterval(this.pingTimer);
    this.channel?.post({ type: 'bye' });
  };

  private readonly onPageShow = () => {
    if (this.closed || this.fallbackLink || !this.hidden) return;
    this.hidden = false;
    this.sayHello();
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
    this.openChannel();
  }

  async call<C extends HostCommand>(command: C): Promise<CommandResult<C>> {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    if (this.fallbackLink) return this.fallbackLink.call(command);
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const pending: Pending = { command, resolve: resolve as (value: unknown) => void, reject, sentTo: null };
      this.pending.set(id, pending);
      if (this.welcomed) this.sendCall(id, pending);
    });
  }

  subscribe(listener: (event: HostEvent) => void): () => void {
    // One registration per listener, as a Set would keep: a second subscribe adds nothing.
    if (!this.emitter.listeners('event').includes(listener)) this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    const target = this.options.target ?? (globalThis as Partial<EventTargetLike>);
    target.removeEventListener?.('pagehide', this.onPageHide);
    target.removeEventListener?.('pageshow', this.onPageShow);
    clearInterval(this.pingTimer);
    if (!this.hidden) this.channel?.post({ type: 'bye' });
    this.channel?.close();
    this.channel = null;
    this.fallbackLink?.close();
    const error = new ChatError('CLOSED', 'the client was closed');
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    this.emitter.removeAllListeners();
  }

  /** Runs on the fallback link from now on (a host of another version, or none could start). */
  fallBack(reason: string): void {
    if (this.closed || this.fallbackLink) return;
    clearInterval(this.pingTimer);
    if (this.welcomed) this.channel?.post({ type: 'bye' });
    this.channel?.close();
    this.channel = null;
    this.welcomed = false;
    this.options.onFallback?.(reason);
    const { link: fallback, transport } = this.options.fallback(reason);
    this.fallbackLink = fallback;
    this.transport = transport;
    fallback.subscribe((event) => this.deliver(event));
    for (const pending of this.pending.values()) fallback.call(pending.command).then(pending.resolve, pending.reject);
    this.pending.clear();
    this.markReady();
  }

  // ---------------------------------------------------------------- internals

  private openChannel(): void {
    if (this.channel) {
      // Replies to calls sent on the old channel can no longer arrive: send them again.
      for (const pending of this.pending.values()) pending.sentTo = null;
      this.channel.close();
    }
    this.welcomed = false;
    this.channel = this.options.connect((message) => this.receive(message));
    this.lastHeard = this.now();
    this.sayHello();
    this.startPinging();
  }

  private sayHello(): void {
    this.channel?.post({
      type: 'hello',
      tab: this.tabId,
      protocol: LINK_PROTOCOL,
      sdk: SDK_VERSION,
      config: this.options.config,
      timings: this.options.timings,
      session: this.session,
    });
  }

  private sendCall(id: number, pending: Pending): void {
    pending.sentTo = this.bootId;
    this.channel?.post({ type: 'call', id, command: pending.command });
  }

  private startPinging(): void {
    clearInterval(this.pingTimer);
    const { pingIntervalMs, maxMissedPings } = this.options.timings;
    this.pingTimer = setInterval(() => {
      if (this.now() - this.lastHeard > pingIntervalMs * maxMissedPings) {
        // The host fell silent (a worker that died, a leader that crashed): start a new one.
        this.openChannel();
        return;
      }
      if (this.welcomed) this.channel?.post({ type: 'ping' });
      else this.sayHello(); // no host yet (no leader elected): keep asking
    }, pingIntervalMs);
  }

  private receive(message: HostMessage): void {
    if (this.closed || this.fallbackLink) return;
    this.lastHeard = this.now();
    switch (message.type) {
      case 'welcome':
        if (!message.accepted || message.protocol !== LINK_PROTOCOL || message.sdk !== SDK_VERSION) {
          this.fallBack(`${VERSION_MISMATCH}: the shared host speaks link protocol ${message.protocol} of SDK ${message.sdk}; this tab has ${LINK_PROTOCOL} of ${SDK_VERSION}`);
          return;
        }
        this.bootId = message.bootId;
        this.welcomed = true;
        // Whatever a new host (or the same host, after a reset) did not get is sent again.
        for (const [id, pending] of this.pending) if (pending.sentTo !== this.bootId) this.sendCall(id, pending);
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
        this.deliver(message.event);
        return;
      case 'ping':
        if (!this.hidden) this.channel?.post({ type: 'pong' });
        return;
      case 'pong':
        return;
      case 'reset':
        for (const id of message.ids ?? []) {
          const pending = this.pending.get(id);
          if (pending) pending.sentTo = null;
        }
        this.welcomed = false;
        if (!this.hidden) this.sayHello(); // a hidden page says hello on pageshow
        return;
    }
  }

  /** Hands a host event to this tab's listeners, remembering the session for the next hello. */
  private deliver(event: HostEvent): void {
    if (event.type === 'session') this.session = event.session;
    this.emitter.emit('event', event);
  }
}

/**
 * A `Connect` whose real one is still loading (a module fetched with `import()`): messages
 * posted meanwhile wait, in order, and go out once it is there.
 */
export function connectWhenLoaded(loading: Promise<{ connect: Connect }>): Connect {
  return (receive) => {
    const waiting: TabMessage[] = [];
    let channel: LinkChannel | null = null;
    let closed = false;
    void loading.then((source) => {
      if (closed) return;
      channel = source.connect(receive);
      for (const message of waiting.splice(0)) channel.post(message);
    });
    return {
      post: (message) => (channel ? channel.post(message) : void waiting.push(message)),
      close: () => {
        closed = true;
        channel?.close();
      },
    };
  };
}
