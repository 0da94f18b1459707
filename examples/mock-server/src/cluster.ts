import { SharedLimitStore } from './limits/index.js';
import type { Logger } from './log.js';
import type { PresenceTracker } from './presence.js';
import { ProcessRegistry } from './process-registry.js';
import { RedisBus } from './redis-bus.js';
import { SharedPresence } from './shared-presence.js';

/**
 * What a process shares with the others through Redis (`CHAT_REDIS`, docs/scale-out.md):
 * events (the bus), which processes are alive, who is online, and the limits. One place
 * opens and closes them, and cleans up after a dead process.
 */
export class Cluster {
  private constructor(
    readonly bus: RedisBus,
    private readonly registry: ProcessRegistry,
    readonly presence: SharedPresence,
    readonly limits: SharedLimitStore,
  ) {}

  /** Connects and sends the first heartbeat; rejects (closing what it opened) when Redis cannot be reached. */
  static async open(url: string, options: { processTtlMs: number; log: Logger }): Promise<Cluster> {
    const bus = await RedisBus.open(url, options.log);
    const registry = new ProcessRegistry(bus.commands, bus.processId, { ttlMs: options.processTtlMs, log: options.log });
    try {
      await registry.start();
    } catch (error) {
      registry.stop();
      await bus.close();
      throw new Error(`cannot reach Redis at ${url.replace(/:[^:@/]*@/, ':***@')} (CHAT_REDIS): ${(error as Error).message}`);
    }
    const cluster = new Cluster(bus, registry, new SharedPresence(bus.commands, registry), new SharedLimitStore(bus.commands, registry, { log: options.log }));
    registry.onDead((processId) => cluster.limits.processDied(processId));
    registry.onBack(async () => cluster.limits.resend());
    return cluster;
  }

  /** The presence tracker cleans up after dead processes and writes its users again after a Redis restart. */
  watch(presence: PresenceTracker): void {
    this.registry.onDead((processId) => presence.processDied(processId));
    this.registry.onBack(() => presence.rejoin());
  }

  async close(): Promise<void> {
    this.registry.stop();
    this.limits.close();
    await this.bus.close();
  }
}
