import { ChatError, type Message, type ReplyData, toChatError } from '../protocol/index.js';
import type { RoomMessages } from './room-messages.js';

type Page = ReplyData<'get_messages'>;

export interface RoomHistoryOptions {
  /** `get_messages` through the host (which watches the pages to keep delivery gapless). */
  fetch(data: { roomId: string; limit: number; before?: number; after?: number }): Promise<Page>;
  /** The room's messages kept in storage. */
  cached(roomId: string): Promise<Message[]>;
  /** Whether the connection is open now. */
  isOpen(): boolean;
  report(error: ChatError): void;
}

/** Newest page and older pages: what a screen of messages shows first. */
const PAGE = 50;
/** Catch-up pages: as many as the protocol allows. */
const CATCH_UP_PAGE = 100;

/**
 * Fills a tab's room stores with history: on first open what storage holds (so a reload
 * works offline), then the server's newest page or everything after the cached messages;
 * after a reconnect the rooms that could not sync; and older pages on demand.
 */
export class RoomHistory {
  /** Rooms to bring up to date on the next connect. */
  private readonly waiting = new Set<string>();
  /** Rooms whose history is anchored (cached messages or a newest page): later syncs fetch what follows. */
  private readonly anchored = new Set<string>();

  constructor(private readonly options: RoomHistoryOptions) {}

  /** First open, once the client is `ready`: what storage holds (works offline), then the server. */
  async open(store: RoomMessages, ready: Promise<unknown>): Promise<void> {
    store.setLoading(true); // at once, so a view never sees an empty room that is not loading
    try {
      await ready;
      const cached = await this.options.cached(store.roomId);
      store.batch(() => {
        store.mergeServer(cached);
        store.setHasMore((store.lowestSeq ?? 1) > 1);
      });
      if (cached.length > 0) this.anchored.add(store.roomId);
      await this.sync(store);
    } catch (error) {
      this.options.report(toChatError(error));
    } finally {
      store.setLoading(false);
    }
  }

  /**
   * Brings a room up to date: the newest page the first time (when storage held nothing of
   * it), then everything after its highest contiguous seq. Offline, it waits for the next
   * connect. Messages that arrived live before the first page (an acknowledgement, an event)
   * do not count as history: they would hide everything below them.
   */
  async sync(store: RoomMessages): Promise<void> {
    const { roomId } = store;
    if (!this.options.isOpen()) {
      this.waiting.add(roomId);
      return;
    }
    this.waiting.delete(roomId);
    try {
      if (!this.anchored.has(roomId)) {
        const page = await this.options.fetch({ roomId, limit: PAGE });
        this.anchored.add(roomId);
        store.batch(() => {
          store.mergeServer(page.messages);
          store.setHasMore(page.hasMore);
        });
        return;
      }
      for (;;) {
        const after = store.highestContiguousSeq;
        const page = await this.options.fetch({ roomId, after, limit: CATCH_UP_PAGE });
        store.mergeServer(page.messages);
        if (!page.hasMore) break;
        // `hasMore` with nothing new: asking again would get the same page for ever.
        if (store.highestContiguousSeq <= after) throw new ChatError('INTERNAL', `no messages after seq ${after} came, though the server said more follow`, { retryable: false });
      }
    } catch (error) {
      const failure = toChatError(error);
      if (failure.retryable) this.waiting.add(roomId);
      else this.options.report(failure);
    }
  }

  /** Loads the page of history just above the oldest held message. */
  async loadOlder(store: RoomMessages): Promise<void> {
    const lowest = store.lowestSeq;
    if (lowest === null) return this.sync(store);
    // Held messages above the window: they show at once, the server is not asked.
    if (store.showOlder(PAGE)) return;
    if (lowest <= 1) {
      store.setHasMore(false);
      return;
    }
    store.setLoading(true);
    try {
      const page = await this.options.fetch({ roomId: store.roomId, before: lowest, limit: PAGE });
      store.batch(() => {
        store.mergeServer(page.messages);
        store.setHasMore(page.hasMore);
      });
    } finally {
      store.setLoading(false);
    }
  }

  /** The connection opened: sync the rooms that were waiting for it. */
  syncWaiting(stores: ReadonlyMap<string, RoomMessages>): void {
    for (const roomId of [...this.waiting]) {
      const store = stores.get(roomId);
      if (store) void this.sync(store);
    }
  }

  /** The host may have missed messages (a dropped tab, a restarted host): sync these on the next connect. */
  markStale(roomIds: Iterable<string>): void {
    for (const roomId of roomIds) this.waiting.add(roomId);
  }

  /** Another user signed in: nothing of the last one's rooms counts. */
  reset(): void {
    this.waiting.clear();
    this.anchored.clear();
  }
}
