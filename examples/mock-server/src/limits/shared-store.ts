import type { Redis } from 'ioredis';
import type { Logger } from '../log.js';
import type { Rate } from '../options.js';
import type { ProcessRegistry } from '../process-registry.js';
import { type LimitStore, MemoryLimitStore } from './store.js';

/**
 * One background exchange with Redis for every key used since the last (docs/scale-out.md,
 * "Limits across processes"). ARGV: process id, then the buckets (count, then key, rate per
 * second, burst, tokens taken here since the last sync), then the counts (count, then key,
 * holders here). A bucket is a hash refilled by Redis's clock; the script takes what this
 * process took and answers the shared level. A count is a hash of holders per process; the
 * script answers the holders of the other live processes.
 */
const SYNC = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local pid = ARGV[1]
local out = {}
local i = 2
for _ = 1, tonumber(ARGV[i]) do
  local key, per, burst, taken = 'chat:limit:' .. ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), tonumber(ARGV[i + 4])
  i = i + 4
  local stored = redis.call('HMGET', key, 't', 'at')
  local tokens = tonumber(stored[1]) or burst
  local at = tonumber(stored[2]) or now
  tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * per) - taken
  redis.call('HSET', key, 't', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', key, math.ceil((burst - tokens) / per * 1000) + 1000)
  table.insert(out, tostring(tokens))
end
i = i + 1
for _ = 1, tonumber(ARGV[i]) do
  local name, held = ARGV[i + 1], tonumber(ARGV[i + 2])
  i = i + 2
  local key = 'chat:count:' .. name
  if held > 0 then
    redis.call('HSET', key, pid, held)
    redis.call('SADD', 'chat:counted:' .. pid, name)
  else
    redis.call('HDEL', key, pid)
    redis.call('SREM', 'chat:counted:' .. pid, name)
  end
  local others = 0
  local fields = redis.call('HGETALL', key)
  for j = 1, #fields, 2 do
    if fields[j] ~= pid and redis.call('EXISTS', 'chat:process:' .. fields[j]) == 1 then others = others + tonumber(fields[j + 1]) end
  end
  table.insert(out, tostring(others))
end
return out`;

/** ARGV: a dead process's id. Its holders leave every count. */
const FORGET = `
local set = 'chat:counted:' .. ARGV[1]
for _, name in ipairs(redis.call('SMEMBERS', set)) do redis.call('HDEL', 'chat:count:' .. name, ARGV[1]) end
redis.call('DEL', set)
return 0`;

/** How long a sign-in waits for the shared count at most before deciding on what this process knows. */
const REFRESH_TIMEOUT_MS = 1000;

/** Keys that stay this process's own: the whole server's byte debt is about this process's sending. */
const LOCAL_ONLY = 'bytes:server';

interface SyncCommands {
  chatLimitSync(...args: Array<string | number>): Promise<string[]>;
  chatLimitForget(processId: string): Promise<number>;
}

/**
 * Limits held together by every process on one Redis. Each decision is taken here, at once,
 * on an in-memory store (as in one process: O(1), no round trip); what was used is sent to
 * Redis every `syncMs` in one script call, and the answer brings each bucket down to the
 * level all processes together left, and each count to what the others hold. So a user
 * spread over N processes gets the rate of one, give or take what each process grants
 * within one sync. A bucket first used here starts at its share (burst / live processes),
 * so a burst is not multiplied either; it learns the shared level at once (a sync follows
 * immediately). If Redis fails, each process goes on with its own limits (fail open).
 */
export class SharedLimitStore implements LimitStore {
  private readonly local: MemoryLimitStore;
  private readonly commands: SyncCommands;
  /** Tokens taken here per bucket since the last sync. */
  private taken = new Map<string, { rate: Rate; tokens: number }>();
  /** Counts changed here since the last sync (their holders here are sent). */
  private changed = new Set<string>();
  /** What the other live processes held of each count at its last sync. */
  private readonly others = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private syncing = false;
  /** `refresh` callers waiting for the next sync to finish. */
  private waiters: Array<() => void> = [];
  private failing = false;
  private closed = false;

  constructor(
    redis: Redis,
    private readonly registry: ProcessRegistry,
    private readonly options: { log: Logger; syncMs?: number },
  ) {
    this.local = new MemoryLimitStore(undefined, (rate) => rate.burst / this.registry.live);
    redis.defineCommand('chatLimitSync', { numberOfKeys: 0, lua: SYNC });
    redis.defineCommand('chatLimitForget', { numberOfKeys: 0, lua: FORGET });
    this.commands = redis as unknown as SyncCommands;
  }

  take(key: string, rate: Rate, cost = 1): number {
    const fresh = !this.local.has(key);
    const wait = this.local.take(key, rate, cost);
    if (wait === 0 || fresh) this.took(key, rate, wait === 0 ? cost : 0, fresh);
    return wait;
  }

  charge(key: string, rate: Rate, cost: number): void {
    const fresh = !this.local.has(key);
    this.local.charge(key, rate, cost);
    this.took(key, rate, cost, fresh);
  }

  wait(key: string, rate: Rate): number {
    return this.local.wait(key, rate);
  }

  acquire(key: string, max: number): boolean {
    const granted = this.local.acquire(key, max - (this.others.get(key) ?? 0));
    // Refused: learn what the others hold now, so a retry is decided on fresh numbers.
    this.changed.add(key);
    this.schedule(!this.others.has(key) || !granted);
    return granted;
  }

  release(key: string): void {
    this.local.release(key);
    // Kept only while held here (or just refreshed): a key let go is asked again when next needed.
    if (this.local.held(key) === 0) this.others.delete(key);
    this.changed.add(key);
    this.schedule(false);
  }

  /** Resolves once a sync that includes `key` is done (or failed, or took over a second: fail open). */
  refresh(key: string): Promise<void> {
    this.changed.add(key);
    const done = new Promise<void>((resolve) => {
      this.waiters.push(resolve);
      setTimeout(resolve, REFRESH_TIMEOUT_MS).unref();
    });
    this.schedule(true);
    return done;
  }

  /** Redis answers again (it may have restarted empty): every count held here is sent again. */
  resend(): void {
    for (const [key] of this.local.allHeld()) this.changed.add(key);
    this.schedule(true);
  }

  /** A dead process claimed by this one: its holders leave the counts. */
  async processDied(processId: string): Promise<void> {
    await this.commands.chatLimitForget(processId);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private took(key: string, rate: Rate, tokens: number, fresh: boolean): void {
    if (key === LOCAL_ONLY) return;
    const entry = this.taken.get(key);
    if (entry) entry.tokens += tokens;
    else this.taken.set(key, { rate, tokens });
    this.schedule(fresh);
  }

  private schedule(soon: boolean): void {
    if (this.closed) return;
    if (this.timer && !soon) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.sync(), soon ? 0 : (this.options.syncMs ?? 100));
    this.timer.unref();
  }

  private async sync(): Promise<void> {
    this.timer = undefined;
    if (this.syncing) return this.schedule(false); // one exchange at a time
    if (this.taken.size === 0 && this.changed.size === 0) return;
    const taken = this.taken;
    const changed = [...this.changed];
    const waiters = this.waiters;
    this.taken = new Map();
    this.changed = new Set();
    this.waiters = [];
    const args: Array<string | number> = [this.registry.processId, taken.size];
    for (const [key, { rate, tokens }] of taken) args.push(key, rate.perSecond, rate.burst, tokens);
    args.push(changed.length);
    for (const key of changed) args.push(key, this.local.held(key));
    this.syncing = true;
    try {
      const answer = await this.commands.chatLimitSync(...args);
      let i = 0;
      for (const [key, { rate }] of taken) {
        // What was taken here while the answer travelled is still to be sent: keep it off.
        this.local.set(key, rate, Number(answer[i++]) - (this.taken.get(key)?.tokens ?? 0));
      }
      for (const key of changed) this.others.set(key, Number(answer[i++]));
      if (this.failing) this.options.log.info('shared limits work again');
      this.failing = false;
    } catch (error) {
      // Fail open: decisions go on from this process's own buckets and counts.
      if (!this.failing) this.options.log.warn('shared limits unreachable; each process limits on its own until Redis is back', { error: (error as Error).message });
      this.failing = true;
      for (const key of changed) this.changed.add(key);
    } finally {
      this.syncing = false;
      for (const resolve of waiters) resolve();
    }
    if (this.taken.size > 0 || this.changed.size > 0) this.schedule(false);
  }
}
