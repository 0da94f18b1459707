import { toChatError } from '../../protocol/index.js';
import type { HostCommand } from '../../contract/host-api.js';
import { type HostMessage, type HelloMessage, LINK_PROTOCOL, type LinkTimings, SDK_VERSION, type TabMessage } from '../messages.js';

/** How the hub reaches one tab: a MessagePort, or the BroadcastChannel addressed to that tab. */
export interface TabPort {
  post(message: HostMessage): void;
}

/** What the hub does for one tab; the endpoint calls it, the hub answers with `attach` and `detach`. */
export interface TabService {
  /** The tab said hello in this link protocol and SDK version (maybe again: after a reset, with other settings or session). */
  hello(hello: HelloMessage): void;
  /** Runs one call of an attached tab; what it resolves or rejects with goes back as the reply. */
  run(command: HostCommand): Promise<unknown>;
  /** The tab said bye or fell silent: it must keep nothing alive. */
  forget(): void;
}

/**
 * The hub's end of the link to one tab: answers `hello` with `welcome` (the versions must
 * match exactly), replies to each call, answers pings and pings the tab, drops it when it
 * falls silent, and tells it with `reset` to say hello again when it speaks while not attached
 * (dropped, or it never said hello). What the calls do is the hub's business (`TabService`).
 */
export class TabEndpoint {
  /** Binding in progress (a hello with a session): calls wait for it. */
  ready: Promise<void> = Promise.resolve();
  /** The id the tab said hello with; null before, and once it is gone (bye, missed pings). */
  private id: string | null = null;
  private timings: LinkTimings = { pingIntervalMs: 10_000, maxMissedPings: 3 };
  private lastHeard: number;
  private pingTimer: ReturnType<typeof setInterval> | undefined;

  constructor(
    readonly port: TabPort,
    private readonly service: TabService,
    private readonly bootId: string,
    private readonly now: () => number,
  ) {
    this.lastHeard = now();
  }

  /** Whether the tab said hello and is not gone since: only then are its calls run. */
  get attached(): boolean {
    return Boolean(this.id);
  }

  receive(message: TabMessage): void {
    this.lastHeard = this.now();
    switch (message.type) {
      case 'hello':
        this.hello(message);
        return;
      case 'call':
        if (!this.id) {
          // Dropped (missed pings) or never said hello: it must hello first, then send again.
          this.port.post({ type: 'reset', ids: [message.id] });
          return;
        }
        void this.call(message.id, message.command);
        return;
      case 'ping':
      case 'pong':
        // A tab dropped for silence (hung, frozen) that speaks again learns it must hello again.
        if (!this.id) this.port.post({ type: 'reset' });
        else if (message.type === 'ping') this.port.post({ type: 'pong' });
        return;
      case 'bye':
        this.service.forget();
        return;
    }
  }

  /** The hub took the tab in: its calls run from now on, and it is pinged with the timings it asked for. */
  attach(hello: HelloMessage): void {
    this.id = hello.tab;
    this.timings = hello.timings;
    this.startPinging();
  }

  /** The tab is gone: no more pings; it must say hello again to be served. */
  detach(): void {
    clearInterval(this.pingTimer);
    this.pingTimer = undefined;
    this.id = null;
  }

  private hello(hello: HelloMessage): void {
    const accepted = hello.protocol === LINK_PROTOCOL && hello.sdk === SDK_VERSION;
    this.port.post({ type: 'welcome', bootId: this.bootId, protocol: LINK_PROTOCOL, sdk: SDK_VERSION, accepted });
    if (accepted) this.service.hello(hello);
  }

  /** Runs one call and replies to it, by its id, on this tab's port only. */
  private async call(id: number, command: HostCommand): Promise<void> {
    try {
      await this.ready;
      const value = await this.service.run(command);
      this.port.post({ type: 'reply', id, ok: true, value });
    } catch (error) {
      this.port.post({ type: 'reply', id, ok: false, error: toChatError(error).toJSON() });
    }
  }

  private startPinging(): void {
    clearInterval(this.pingTimer);
    const pingIntervalMs = Math.max(20, this.timings.pingIntervalMs);
    const maxMissedPings = Math.max(1, this.timings.maxMissedPings);
    this.pingTimer = setInterval(() => {
      if (this.now() - this.lastHeard > pingIntervalMs * maxMissedPings) {
        // A crashed or frozen tab: it must not keep a socket open.
        this.service.forget();
        return;
      }
      this.port.post({ type: 'ping' });
    }, pingIntervalMs);
  }
}
