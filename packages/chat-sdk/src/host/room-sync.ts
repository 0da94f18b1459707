import { ChatError, type Message, type Room } from '../protocol/index.js';
import { SeqRuns } from '../contract/seq-runs.js';
import { KeyedRuns } from '../contract/keyed-runs.js';

export interface RoomSyncOptions {
  fetchAfter(roomId: string, after: number): Promise<{ messages: Message[]; hasMore: boolean }>;
  /** Messages every client should merge (gap fills and catch-up pages). */
  deliver(roomId: string, messages: Message[]): void;
  onError(error: unknown): void;
}

/**
 * Keeps what the host has delivered gapless (protocol section 6). For every room some
 * client holds messages of, it tracks the watermark: the highest seq up to which every
 * message has been delivered. A live message above watermark + 1 fetches the gap; a
 * reconnect fetches everything above the watermark. Rooms nobody has opened need nothing.
 */
export class RoomSync {
  /** Per tracked room, what was delivered: one run from 0 up to the watermark, then any islands above. */
  private readonly delivered = new Map<string, SeqRuns>();
  private readonly runs: KeyedRuns;

  constructor(private readonly options: RoomSyncOptions) {
    this.runs = new KeyedRuns((error) => options.onError(error));
  }

  watermark(roomId: string): number | undefined {
    return this.delivered.get(roomId)?.highestContiguous;
  }

  /** Whether `seq` of a tracked room was delivered already (a server repeating or going back). */
  holds(roomId: string, seq: number): boolean {
    return this.delivered.get(roomId)?.has(seq) ?? false;
  }

  /** The user left the room: nothing of it is fetched any more. */
  forget(roomId: string): void {
    this.delivered.delete(roomId);
    this.runs.cancelAgain(roomId);
  }

  /**
   * A `get_messages` reply passed through the host. The newest page and pages `after`
   * the watermark are contiguous up to their last message, so they move it; older
   * pages (`before`) do not.
   */
  observePage(roomId: string, query: { before?: number; after?: number }, page: { messages: Message[]; hasMore: boolean }): void {
    if (query.before !== undefined) return;
    const runs = this.delivered.get(roomId);
    const top = page.messages.at(-1)?.seq ?? query.after ?? 0;
    // The newest page: everything up to its top exists and live messages follow it. A page
    // `after` the watermark joins it; one above it would be an island, and is left alone.
    if (query.after !== undefined && runs !== undefined && query.after > runs.highestContiguous) return;
    this.track(roomId).addRange(0, top);
  }

  /** A live message (event or send acknowledgement). */
  observeMessage(message: Message): void {
    const runs = this.delivered.get(message.roomId);
    if (runs === undefined) return;
    runs.add(message.seq);
    if (runs.hasGap) void this.fill(message.roomId);
  }

  /** After a reconnect: every tracked room whose server `lastSeq` is above the watermark. */
  catchUp(rooms: readonly Room[]): Promise<void> {
    const work: Promise<void>[] = [];
    for (const room of rooms) {
      const current = this.watermark(room.id);
      if (current !== undefined && room.lastSeq > current) work.push(this.fill(room.id));
    }
    return Promise.all(work).then(() => undefined);
  }

  reset(): void {
    this.delivered.clear();
    this.runs.cancelAgain();
  }

  private track(roomId: string): SeqRuns {
    let runs = this.delivered.get(roomId);
    if (!runs) this.delivered.set(roomId, (runs = new SeqRuns()));
    return runs;
  }

  /** Fetches `after: watermark` pages until none are left; one fill per room at a time. */
  private fill(roomId: string): Promise<void> {
    return this.runs.run(roomId, async () => {
      for (;;) {
        const runs = this.delivered.get(roomId);
        if (runs === undefined) return; // reset meanwhile (logout)
        const after = runs.highestContiguous;
        const page = await this.options.fetchAfter(roomId, after);
        // Only what lies above `after` counts; a server repeating itself moves nothing.
        const fresh = page.messages.filter((m) => m.seq > after);
        if (fresh.length) this.options.deliver(roomId, fresh);
        const top = fresh.at(-1)?.seq;
        if (top !== undefined) runs.addRange(after, top);
        if (!page.hasMore) return;
        if (top === undefined) {
          throw new ChatError('INTERNAL', `the server said more messages follow seq ${after} in room ${roomId} but sent none`);
        }
      }
    });
  }
}
