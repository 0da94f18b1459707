import type { Redis } from 'ioredis';
import type { ProcessRegistry } from './process-registry.js';

/**
 * Who is online across processes, in Redis (docs/scale-out.md, "Presence across
 * processes"). `chat:presence:<user>` is a hash: one field per process that holds the user
 * (a connection, or its grace after the last one), plus `since`, when this stretch online
 * began. A field counts only while its process's liveness key exists (ProcessRegistry), so a
 * SIGKILLed process stops counting when its key expires. `chat:presence-users:<process>`
 * lists the users a process holds, for the process that cleans up after it. Each change is
 * one script, so of processes racing, exactly one sees a user come online or go offline.
 */
const LIVE_FIELD = `
local function holders(key, except)
  for _, field in ipairs(redis.call('HKEYS', key)) do
    if field ~= 'since' and field ~= except and redis.call('EXISTS', 'chat:process:' .. field) == 1 then return true end
  end
  return false
end`;

/** ARGV: process, user, now. Returns {1 if the user was offline everywhere, since}. */
const JOIN = `${LIVE_FIELD}
local key = 'chat:presence:' .. ARGV[2]
local since = tonumber(ARGV[3])
local online = holders(key, ARGV[1])
if online then since = tonumber(redis.call('HGET', key, 'since')) or since
else redis.call('HSET', key, 'since', ARGV[3]) end
redis.call('HSET', key, ARGV[1], '1')
redis.call('SADD', 'chat:presence-users:' .. ARGV[1], ARGV[2])
return {online and 0 or 1, since}`;

/** ARGV: process, user. Returns 1 when no live process holds the user any more (offline). */
const LEAVE = `${LIVE_FIELD}
local key = 'chat:presence:' .. ARGV[2]
redis.call('HDEL', key, ARGV[1])
redis.call('SREM', 'chat:presence-users:' .. ARGV[1], ARGV[2])
if holders(key, nil) then return 0 end
redis.call('DEL', key)
return 1`;

/** ARGV: users. Returns, per user, since when they are online, or -1. */
const STATUS = `${LIVE_FIELD}
local out = {}
for i, user in ipairs(ARGV) do
  local key = 'chat:presence:' .. user
  out[i] = holders(key, nil) and (tonumber(redis.call('HGET', key, 'since')) or 0) or -1
end
return out`;

interface PresenceCommands {
  chatPresenceJoin(processId: string, userId: string, now: number): Promise<[number, number]>;
  chatPresenceLeave(processId: string, userId: string): Promise<number>;
  chatPresenceStatus(...userIds: string[]): Promise<number[]>;
}

export class SharedPresence {
  private readonly commands: PresenceCommands;

  constructor(
    redis: Redis,
    private readonly registry: ProcessRegistry,
  ) {
    redis.defineCommand('chatPresenceJoin', { numberOfKeys: 0, lua: JOIN });
    redis.defineCommand('chatPresenceLeave', { numberOfKeys: 0, lua: LEAVE });
    redis.defineCommand('chatPresenceStatus', { numberOfKeys: 0, lua: STATUS });
    this.commands = redis as unknown as PresenceCommands;
    this.redis = redis;
  }

  private readonly redis: Redis;

  /** This process holds the user now: whether they were offline everywhere, and since when they are online. */
  async join(userId: string, now: number): Promise<{ first: boolean; since: number }> {
    const [first, since] = await this.commands.chatPresenceJoin(this.registry.processId, userId, now);
    return { first: first === 1, since };
  }

  /** This process holds the user no more: true when no live process does (they are offline). */
  async leave(userId: string, processId = this.registry.processId): Promise<boolean> {
    return (await this.commands.chatPresenceLeave(processId, userId)) === 1;
  }

  /** Since when each user held by a live process is online; others are left out. */
  async status(userIds: readonly string[]): Promise<Map<string, number>> {
    const online = new Map<string, number>();
    if (userIds.length === 0) return online;
    const since = await this.commands.chatPresenceStatus(...userIds);
    userIds.forEach((userId, i) => {
      if ((since[i] ?? -1) >= 0) online.set(userId, since[i]!);
    });
    return online;
  }

  /** The users a (dead) process held. */
  heldBy(processId: string): Promise<string[]> {
    return this.redis.smembers(`chat:presence-users:${processId}`);
  }

  async forgetProcess(processId: string): Promise<void> {
    await this.redis.del(`chat:presence-users:${processId}`);
  }
}
