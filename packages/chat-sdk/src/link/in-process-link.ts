import { Emitter } from '../contract/emitter.js';
import type { ChatHost } from '../host/chat-host.js';
import type { CommandResult, HostCommand, HostEvent, HostLink } from '../contract/host-api.js';

/**
 * Client and host in one process (Node, tests, `transport: 'in-tab'`): commands are
 * direct calls and events direct callbacks. The host arrives once storage is open.
 */
export class InProcessLink implements HostLink {
  private readonly emitter = new Emitter<{ event: [HostEvent] }>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly host: Promise<ChatHost>) {
    host.then(
      (ready) => {
        if (this.closed) return;
        this.unsubscribe = ready.subscribe((event) => this.emitter.emit('event', event));
      },
      () => {
        // Reported by `call`, which rejects with the same error.
      },
    );
  }

  async call<C extends HostCommand>(command: C): Promise<CommandResult<C>> {
    const host = await this.host;
    return host.handle(command);
  }

  subscribe(listener: (event: HostEvent) => void): () => void {
    // One registration per listener, as a Set would keep: a second subscribe adds nothing.
    if (!this.emitter.listeners('event').includes(listener)) this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.emitter.removeAllListeners();
    await this.host.then((host) => host.close(), () => undefined);
  }
}
