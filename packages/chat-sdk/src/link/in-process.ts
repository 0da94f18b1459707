import type { ChatHost } from '../host/chat-host.js';
import type { CommandResult, HostCommand, HostEvent, HostLink } from '../contract/host-api.js';

/**
 * Client and host in one process (Node, tests, `transport: 'in-tab'`): commands are
 * direct calls and events direct callbacks. The host arrives once storage is open.
 */
export class InProcessLink implements HostLink {
  private readonly listeners = new Set<(event: HostEvent) => void>();
  private unsubscribe: (() => void) | undefined;
  private closed = false;

  constructor(private readonly host: Promise<ChatHost>) {
    host.then(
      (ready) => {
        if (this.closed) return;
        this.unsubscribe = ready.subscribe((event) => {
          for (const listener of [...this.listeners]) listener(event);
        });
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
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.unsubscribe?.();
    this.listeners.clear();
    await this.host.then((host) => host.close(), () => undefined);
  }
}
