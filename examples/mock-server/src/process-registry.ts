import type { Redis } from 'ioredis';
import type { Logger } from './log.js';

/**
 * Which server processes are alive, in Redis (docs/scale-out.md, "Presence across
 * processes"). Each process keeps a key `chat:process:<id>` that expires `ttlMs` after its
 * last heartbeat (every third of that), so a process killed with SIGKILL stops counting
 * once its key expires, by Redis's clock alone. The first heartbeat after that claims it,
 * removing it from the set `chat:processes` in the same script, so exactly one process
 * cleans up after each dead one.
 */
const HEARTBEAT = `
redis.call('SET', 'chat:process:' .. ARGV[1], '1', 'PX', ARGV[2])
redis.call('SADD', 'chat:processes', ARGV[1])
local live, dead = 0, {}
for _, id in ipairs(redis.call('SMEMBERS', 'chat:processes')) do
  if redis.call('EXISTS', 'chat:process:' .. id) == 1 then live = live + 1
  else redis.call('SREM', 'chat:processes', id); table.insert(dead, id) end
end
return {live, dead}`;

export class ProcessRegistry {
  /** Processes alive at the last heartbeat, this one included (1 until the first answer). */
  live = 1;
  private timer: NodeJS.Timeout | undefined;
  private failing = false;
  private readonly deadListeners: Array<(processId: string) => Promise<void>> = [];
  private readonly backListeners: Array<() => Promise<void>> = [];

  constructor(
    private readonly redis: Redis,
    readonly processId: string,
    private readonly options: { ttlMs: number; log: Logger },
  ) {
    redis.defineCommand('chatHeartbeat', { numberOfKeys: 0, lua: HEARTBEAT });
  }

  /** A dead process was claimed by this one: clean up what it left. */
  onDead(listener: (processId: string) => Promise<void>): void {
    this.deadListeners.push(listener);
  }

  /** Redis answers again after failing (it may have restarted empty): write this process's state again. */
  onBack(listener: () => Promise<void>): void {
    this.backListeners.push(listener);
  }

  /** The first heartbeat (throws when Redis cannot be reached), then one every third of the ttl. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => {}), Math.max(50, Math.floor(this.options.ttlMs / 3)));
    this.timer.unref();
    // A reconnect after a Redis restart: this process's keys are gone; write them again now.
    this.redis.on('ready', () => {
      this.failing = true; // whatever this process wrote may be gone with the old Redis
      void this.beat().catch(() => {});
    });
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    let live: number;
    let dead: string[];
    try {
      [live, dead] = (await (this.redis as unknown as { chatHeartbeat(id: string, ttl: number): Promise<[number, string[]]> }).chatHeartbeat(
        this.processId,
        this.options.ttlMs,
      ));
    } catch (error) {
      if (!this.failing) this.options.log.warn('redis heartbeat failed; presence and limits are decided by each process alone until Redis is back', { error: (error as Error).message });
      this.failing = true;
      throw error;
    }
    this.live = Math.max(1, live);
    if (this.failing) {
      this.failing = false;
      this.options.log.info('redis heartbeat works again');
      for (const listener of this.backListeners) await listener().catch(() => {});
    }
    for (const id of dead) {
      for (const listener of this.deadListeners) {
        await listener(id).catch((error: unknown) => this.options.log.error('cleaning up after a dead process failed', { processId: id, error }));
      }
    }
  }
}
