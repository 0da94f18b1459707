import type { Message, Room } from '../protocol/index.js';

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
  private readonly watermarks = new Map<string, number>();
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();

  constructor(private readonly options: RoomSyncOptions) {}

  watermark(roomId: string): number | undefined {
    return this.watermarks.get(roomId);
  }

  /**
   * A `get_messages` reply passed through the host. The newest page and pages `after`
   * the watermark are contiguous up to their last message, so they move it; older
   * pages (`before`) do not.
   */
  observePage(roomId: string, query: { before?: number; after?: number }, page: { messages: Message[]; hasMore: boolean }): void {
    if (query.before !== undefined) return;
    const current = this.watermarks.get(roomId);
    const top = page.messages.at(-1)?.seq ?? query.after ?? 0;
    if (query.after === undefined) {
      // The newest page: everything up to its top exists and live messages follow it.
      this.watermarks.set(roomId, Math.max(current ?? 0, top));
    } else if (current === undefined || query.after <= current) {
      this.watermarks.set(roomId, Math.max(current ?? 0, top));
    }
  }

  /** A live message (event or send acknowledgement). */
  observeMessage(message: Message): void {
    const current = this.watermarks.get(message.roomId);
    if (current === undefined || message.seq <= current) return;
    if (message.seq === current + 1) this.watermarks.set(message.roomId, message.seq);
    else void this.fill(message.roomId);
  }

  /** After a reconnect: every tracked room whose server `lastSeq` is above the watermark. */
  catchUp(rooms: readonly Room[]): Promise<void> {
    const work: Promise<void>[] = [];
    for (const room of rooms) {
      const current = this.watermarks.get(room.id);
      if (current !== undefined && room.lastSeq > current) work.push(this.fill(room.id));
    }
    return Promise.all(work).then(() => undefined);
  }

  reset(): void {
    this.watermarks.clear();
    this.again.clear();
  }

  /** Fetches `after: watermark` pages until none are left; one fill per room at a time. */
  private fill(roomId: string): Promise<void> {
    const running = this.running.get(roomId);
    if (running) {
      this.again.add(roomId);
      return running;
    }
    const run = (async () => {
      try {
        do {
          this.again.delete(roomId);
          for (;;) {
            const after = this.watermarks.get(roomId);
            if (after === undefined) return; // reset meanwhile (logout)
            const page = await this.options.fetchAfter(roomId, after);
            if (page.messages.length) this.options.deliver(roomId, page.messages);
            const top = page.messages.at(-1)?.seq;
            if (top !== undefined && top > after) this.watermarks.set(roomId, top);
            if (!page.hasMore || top === undefined) break;
          }
        } while (this.again.has(roomId));
      } catch (error) {
        this.options.onError(error);
      } finally {
        this.running.delete(roomId);
      }
    })();
    this.running.set(roomId, run);
    return run;
  }
}
