import { TYPING_COALESCE_MS, TYPING_RATE_BURST, TYPING_RATE_PER_SECOND, TYPING_TTL_MS, eventFrame } from '@chat/sdk/protocol';
import type { Connection } from './connection.js';
import type { Hub } from './hub.js';
import type { LimitStore } from './limits/index.js';

const TYPING_RATE = { perSecond: TYPING_RATE_PER_SECOND, burst: TYPING_RATE_BURST };

interface Typist {
  until: number;
  /** When a refresh was last passed on to the room. */
  sentAt: number;
}

/**
 * Who is typing where (protocol 1.1, docs/protocol.md 10.2), in memory only and never
 * stored. A refresh by one user in one room reaches the room at most once per
 * `TYPING_COALESCE_MS`, however many connections (tabs, devices) send it; a stop, or the
 * user's message, ends it at once. `typing` frames are rate-limited per user, across all
 * their connections (here, in the limit store: with Redis across processes too), and per
 * address (`Limits.typing`).
 */
export class TypingTracker {
  /** userId -> roomId -> typist */
  private readonly typists = new Map<string, Map<string, Typist>>();
  /** `typing` frames taken, for stats. */
  frames = 0;

  constructor(
    private readonly hub: Hub,
    private readonly now: () => number,
    private readonly limits: LimitStore,
  ) {}

  /** Takes a token of the user's typing bucket: 0 when granted, else the milliseconds to wait. */
  take(userId: string): number {
    this.frames++;
    return this.limits.take(`typing:user:${userId}`, TYPING_RATE);
  }

  /** The user types in the room: returns `until` and what to send once the reply is out (nothing when coalesced). */
  start(connection: Connection, userId: string, roomId: string, memberIds: readonly string[]): { until: number; after?: () => void } {
    const now = this.now();
    let rooms = this.typists.get(userId);
    const current = rooms?.get(roomId);
    if (current && current.until > now && now - current.sentAt < TYPING_COALESCE_MS) return { until: current.until };
    if (!rooms) this.typists.set(userId, (rooms = new Map()));
    const until = now + TYPING_TTL_MS;
    rooms.set(roomId, { until, sentAt: now });
    return { until, after: () => this.hub.broadcast(memberIds, eventFrame('typing', { roomId, userId, until }), 1.1, connection) };
  }

  /** The user stopped: the room hears `until: 0` if they were shown typing. */
  stop(connection: Connection, userId: string, roomId: string, memberIds: readonly string[]): { after?: () => void } {
    const current = this.forget(userId, roomId);
    if (!current || current.until <= this.now()) return {};
    return { after: () => this.hub.broadcast(memberIds, eventFrame('typing', { roomId, userId, until: 0 }), 1.1, connection) };
  }

  /** The user's message arrived: `message_created` ends the typing for every client, no frame needed. */
  messageCreated(userId: string, roomId: string): void {
    this.forget(userId, roomId);
  }

  /** The user went offline: nothing of theirs is kept. */
  forgetUser(userId: string): void {
    this.typists.delete(userId);
  }

  private forget(userId: string, roomId: string): Typist | undefined {
    const rooms = this.typists.get(userId);
    const current = rooms?.get(roomId);
    if (!rooms || !current) return undefined;
    rooms.delete(roomId);
    if (rooms.size === 0) this.typists.delete(userId);
    return current;
  }
}
