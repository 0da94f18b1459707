import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from './log.js';

/** The pub/sub channel every process of one deployment publishes on and listens to. */
export const REDIS_CHANNEL = 'chat:events';

/** What one process tells the others: an event for users' connections, or a session to close. */
export type BusMessage =
  | { kind: 'broadcast'; userIds: string[]; text: string; since: number }
  | { kind: 'closeSession'; sessionId: string; code: number; reason: string };

/**
 * Carries hub events between processes over Redis pub/sub (docs/scale-out.md). Each message
 * is tagged with this process's id, and its own echo is ignored: the publisher has already
 * delivered locally. Pub/sub keeps nothing: a message published while a process is cut off
 * from Redis is lost for it, and its clients catch up by seq/rev when they reconnect.
 */
export class RedisBus {
  readonly processId = randomUUID();
  private readonly publisher: Redis;
  private readonly subscriber: Redis;
  private publishFailing = false;
  private closed = false;
  /** Messages from other processes. */
  onMessage: (message: BusMessage) => void = () => {};

  private constructor(url: string, private readonly log: Logger) {
    // No offline queue for publishing: while Redis is down a publish fails at once (logged,
    // local delivery already done) instead of piling up in memory.
    this.publisher = new Redis(url, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    // The subscriber reconnects and subscribes again by itself (ioredis' autoResubscribe).
    this.subscriber = new Redis(url, { lazyConnect: true });
    this.publisher.on('error', () => {});
    this.subscriber.on('error', (error: Error) => {
      if (!this.closed) log.debug('redis subscriber error', { error: error.message });
    });
    this.subscriber.on('ready', () => {
      if (!this.closed) log.debug('redis subscriber ready');
    });
    this.subscriber.on('message', (channel: string, raw: string) => {
      if (channel !== REDIS_CHANNEL) return;
      let parsed: { o?: unknown; m?: BusMessage };
      try {
        parsed = JSON.parse(raw) as { o?: unknown; m?: BusMessage };
      } catch {
        return log.warn('unreadable redis message', { length: raw.length });
      }
      if (parsed.o === this.processId || !parsed.m) return;
      try {
        this.onMessage(parsed.m);
      } catch (error) {
        log.error('redis message failed', { error });
      }
    });
  }

  /**
   * The connection for commands (presence, limits): it fails at once while Redis is down
   * (no offline queue), so callers fall back to what this process knows.
   */
  get commands(): Redis {
    return this.publisher;
  }

  /** Connects both clients and subscribes; rejects (and closes them) when Redis cannot be reached. */
  static async open(url: string, log: Logger): Promise<RedisBus> {
    const bus = new RedisBus(url, log);
    try {
      await Promise.all([bus.publisher.connect(), bus.subscriber.connect()]);
      await bus.subscriber.subscribe(REDIS_CHANNEL);
    } catch (error) {
      bus.closed = true;
      bus.publisher.disconnect();
      bus.subscriber.disconnect();
      throw new Error(`cannot reach Redis at ${withoutPassword(url)} (CHAT_REDIS): ${(error as Error).message}`);
    }
    return bus;
  }

  /** Sends to every other process; never throws. A failure is logged once per outage. */
  publish(message: BusMessage): void {
    if (this.closed) return;
    const raw = JSON.stringify({ o: this.processId, m: message });
    this.publisher.publish(REDIS_CHANNEL, raw).then(
      () => {
        if (this.publishFailing) this.log.info('redis publish works again');
        this.publishFailing = false;
      },
      (error: Error) => {
        if (!this.publishFailing) this.log.error('redis publish failed; events reach only this process until Redis is back', { error: error.message });
        this.publishFailing = true;
      },
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }
}

function withoutPassword(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
