import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/index.js';
import { RoomHistory } from './room-history.js';
import { RoomMessages, SHOWN_MESSAGES } from './room-messages.js';

const ROOM = 'room-1';
const message = (seq: number): Message => ({
  id: `m${seq}`, roomId: ROOM, senderId: 'u-1', clientId: `c${seq}`, seq, text: `text ${seq}`, image: null, createdAt: seq,
});

/** A room of `count` messages answered the way `get_messages` pages (the host's side is not under test here). */
function history(count: number) {
  const asked: Array<{ before: number | undefined; after: number | undefined }> = [];
  const room = new RoomHistory({
    fetch: async ({ limit, before, after }) => {
      asked.push({ before, after });
      const from = after !== undefined ? after + 1 : Math.max(1, (before ?? count + 1) - limit);
      const to = after !== undefined ? Math.min(count, after + limit) : (before ?? count + 1) - 1;
      const messages = Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => message(from + i));
      return { messages, hasMore: after !== undefined ? to < count : from > 1 };
    },
    cached: async () => [],
    isOpen: () => true,
    report: (error) => {
      throw error;
    },
  });
  return { room, asked };
}

describe('RoomHistory.loadOlder in a room larger than the window', () => {
  it('shows held messages above the window without asking the server, then pages from the server', async () => {
    const total = SHOWN_MESSAGES + 130; // 100 held above the window
    const { room, asked } = history(total);
    const store = new RoomMessages(ROOM);
    // Held after a long catch-up: everything from seq 31 on, more than a snapshot shows.
    store.mergeServer(Array.from({ length: total - 30 }, (_, i) => message(31 + i)));
    expect(store.getSnapshot().messages[0]?.seq).toBe(total - SHOWN_MESSAGES + 1);

    await room.loadOlder(store);
    expect(asked).toEqual([]);
    expect(store.getSnapshot().messages[0]?.seq).toBe(81);

    await room.loadOlder(store); // the last held ones show (seq 31 up)
    expect(asked).toEqual([]);
    expect(store.getSnapshot().messages[0]?.seq).toBe(31);

    await room.loadOlder(store); // nothing hidden: the page below seq 31 comes from the server
    expect(asked).toEqual([{ before: 31, after: undefined }]);
    const seqs = store.getSnapshot().messages.map((m) => m.seq);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(store.getSnapshot().hasMore).toBe(false);
  });
});
