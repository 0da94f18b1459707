import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { Message } from '../protocol/index.js';
import { RoomMessages, SHOWN_MESSAGES } from './room-messages.js';
import type { ChatMessage } from '../contract/chat-message.js';

const ROOM = 'room-1';
const ME = 'u-me';

function serverMessage(seq: number, senderId = seq % 3 === 0 ? ME : 'u-other'): Message {
  return { id: `m${seq}`, roomId: ROOM, senderId, clientId: `c${seq}`, seq, text: `text ${seq}`, image: null, createdAt: 1_000 + seq };
}

function pending(clientId: string, localCreatedAt: number, extra: Partial<ChatMessage> = {}): ChatMessage {
  return {
    id: null, roomId: ROOM, senderId: ME, clientId, seq: null, text: `local ${clientId}`, image: null,
    createdAt: null, status: 'pending', localCreatedAt, ...extra,
  };
}

const seqs = (store: RoomMessages) => store.getSnapshot().messages.map((m) => m.seq);
const ids = (store: RoomMessages) => store.getSnapshot().messages.map((m) => m.clientId);
/** The message with this clientId in the snapshot (an unsent one first, or the given sender's). */
const find = (store: RoomMessages, clientId: string, senderId?: string) => {
  const matches = store.getSnapshot().messages.filter((m) => m.clientId === clientId && (senderId === undefined || m.senderId === senderId));
  return matches.find((m) => m.status !== 'sent') ?? matches[0];
};

describe('RoomMessages', () => {
  it('orders by seq, whatever order the server messages come in', () => {
    const store = new RoomMessages(ROOM);
    store.mergeServer([serverMessage(3), serverMessage(1)]);
    store.mergeServer([serverMessage(2)]);
    expect(seqs(store)).toEqual([1, 2, 3]);
    expect(store.getSnapshot().messages[0]).toMatchObject({ status: 'sent', id: 'm1', localCreatedAt: 1_001 });
  });

  it('ignores messages of other rooms', () => {
    const store = new RoomMessages(ROOM);
    const result = store.mergeServer([{ ...serverMessage(1), roomId: 'elsewhere' }]);
    expect(result.changed).toBe(0);
    expect(store.getSnapshot().messages).toEqual([]);
  });

  it('shows a pending message after the sent ones, and turns it sent in place when acked', () => {
    const store = new RoomMessages(ROOM);
    const blob = new Blob(['png']);
    store.mergeServer([serverMessage(1)]);
    store.addPending(pending('local-a', 50, { localImage: blob }));
    store.addPending(pending('local-b', 50));
    expect(ids(store)).toEqual(['c1', 'local-a', 'local-b']);

    // An event from another sender lands between the sent ones and the pending ones.
    store.mergeServer([serverMessage(2, 'u-other')]);
    expect(ids(store)).toEqual(['c1', 'c2', 'local-a', 'local-b']);

    const ack: Message = { ...serverMessage(4, ME), clientId: 'local-a', image: { url: 'https://x/u/1', mime: 'image/png', size: 3 } };
    store.mergeServer([ack]);
    const acked = find(store, 'local-a');
    expect(acked).toMatchObject({ status: 'sent', seq: 4, id: 'm4', createdAt: 1_004, localCreatedAt: 50, image: ack.image });
    expect(acked?.localImage).toBe(blob);
    expect(ids(store)).toEqual(['c1', 'c2', 'local-a', 'local-b']);
    expect(store.highestContiguousSeq).toBe(2);
  });

  it('orders unsent messages by their client time, then by insertion', () => {
    const store = new RoomMessages(ROOM);
    store.addPending(pending('late', 20));
    store.addPending(pending('early', 10));
    store.addPending(pending('tie', 20));
    expect(ids(store)).toEqual(['early', 'late', 'tie']);
  });

  it('lets the server copy win over a late addPending of the same clientId', () => {
    const store = new RoomMessages(ROOM);
    store.mergeServer([{ ...serverMessage(1, ME), clientId: 'x' }]);
    const before = store.getSnapshot();
    store.addPending(pending('x', 5));
    expect(store.getSnapshot()).toBe(before);
    expect(find(store, 'x')?.status).toBe('sent');
  });

  it('keys by (sender, clientId): another sender may reuse a clientId', () => {
    const store = new RoomMessages(ROOM);
    store.addPending(pending('same', 10));
    store.mergeServer([{ ...serverMessage(1, 'u-other'), clientId: 'same' }]);
    const snapshot = store.getSnapshot().messages;
    expect(snapshot.map((m) => [m.senderId, m.status])).toEqual([['u-other', 'sent'], [ME, 'pending']]);
    // The local levers act on the unsent one.
    store.addPending(pending('same', 10, { status: 'failed', error: { code: 'FORBIDDEN', retryable: false, message: 'no' } }));
    expect(find(store, 'same')?.status).toBe('failed');
    expect(find(store, 'same', 'u-other')?.status).toBe('sent');
  });

  it('marks failed, retries and discards', () => {
    const store = new RoomMessages(ROOM);
    store.addPending(pending('a', 1));
    store.addPending(pending('b', 2));
    const listener = vi.fn();
    store.subscribe(listener);

    store.addPending(pending('a', 1, { status: 'failed', error: { code: 'TOO_LARGE', message: 'too long', retryable: false } }));
    expect(find(store, 'a')).toMatchObject({ status: 'failed', error: { code: 'TOO_LARGE' } });
    store.addPending(pending('a', 1));
    expect(find(store, 'a')?.status).toBe('pending');
    expect(find(store, 'a')).not.toHaveProperty('error');
    expect(ids(store)).toEqual(['a', 'b']); // a retry keeps its place
    store.addPending(pending('a', 1)); // the same again (the host echoes it to every tab): nothing
    expect(listener).toHaveBeenCalledTimes(2);

    expect(store.remove('a')).toBe(true);
    expect(store.remove('a')).toBe(false);
    expect(ids(store)).toEqual(['b']);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('never removes a sent message', () => {
    const store = new RoomMessages(ROOM);
    store.mergeServer([serverMessage(1)]);
    expect(store.remove('c1')).toBe(false);
    expect(seqs(store)).toEqual([1]);
  });

  it('keeps the snapshot and stays silent when a merge changes nothing', () => {
    const store = new RoomMessages(ROOM);
    store.mergeServer([serverMessage(1), serverMessage(2)]);
    const first = store.getSnapshot();
    const listener = vi.fn();
    store.subscribe(listener);
    expect(store.mergeServer([serverMessage(2), serverMessage(1)]).changed).toBe(0);
    store.setHasMore(false);
    store.setLoading(false);
    expect(listener).not.toHaveBeenCalled();
    expect(store.getSnapshot()).toBe(first);
  });

  it('keeps the messages array when only hasMore or loading change', () => {
    const store = new RoomMessages(ROOM);
    store.mergeServer([serverMessage(1)]);
    const first = store.getSnapshot();
    store.setHasMore(true);
    store.setLoading(true);
    const second = store.getSnapshot();
    expect(second).not.toBe(first);
    expect(second).toMatchObject({ hasMore: true, loading: true });
    expect(second.messages).toBe(first.messages);
    // Untouched messages keep their identity across rebuilds (for memoised rows).
    store.mergeServer([serverMessage(2)]);
    expect(store.getSnapshot().messages[0]).toBe(first.messages[0]);
  });

  it('tracks contiguity incrementally', () => {
    const store = new RoomMessages(ROOM);
    expect([store.highestContiguousSeq, store.lowestSeq]).toEqual([0, null]);
    expect(store.mergeServer([serverMessage(5), serverMessage(6)]).hasGap).toBe(false);
    expect(store.highestContiguousSeq).toBe(6);
    expect(store.mergeServer([serverMessage(9)]).hasGap).toBe(true);
    expect(store.mergeServer([serverMessage(2)]).hasGap).toBe(true);
    expect([store.highestContiguousSeq, store.lowestSeq]).toEqual([2, 2]);
    store.mergeServer([serverMessage(3), serverMessage(4), serverMessage(7)]);
    expect(store.mergeServer([serverMessage(8)]).hasGap).toBe(false);
    expect(store.highestContiguousSeq).toBe(9);
  });

  it('notifies once per batch and rebuilds the array at most once per batch', () => {
    const N = SHOWN_MESSAGES; // all shown: the window is tested on its own below
    const store = new RoomMessages(ROOM);
    const listener = vi.fn(() => store.getSnapshot());
    store.subscribe(listener);
    store.batch(() => {
      for (let seq = 1; seq <= N; seq++) store.mergeServer([serverMessage(seq)]);
      store.setHasMore(true);
      // Reading inside a batch sees the data so far, and costs one rebuild.
      expect(store.getSnapshot().messages).toHaveLength(N);
    });
    expect(listener).toHaveBeenCalledTimes(1);
    expect(store.rebuildCount).toBe(1);
    expect(store.getSnapshot().messages).toHaveLength(N);
    expect(store.rebuildCount).toBe(1);

    // Outside a batch each merge notifies, but nobody reading means no rebuild.
    const quiet = new RoomMessages(ROOM);
    for (let seq = N; seq >= 1; seq--) quiet.mergeServer([serverMessage(seq)]);
    expect(quiet.rebuildCount).toBe(0);
    expect(seqs(quiet)).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(quiet.rebuildCount).toBe(1);
    expect(quiet.highestContiguousSeq).toBe(N);
  });
});

/** What the store must hold once every delivery arrived, computed the naive way. */
function expected(n: number, mine: ReadonlySet<number>, blobs: ReadonlyMap<number, Blob>, unacked: readonly ChatMessage[]): ChatMessage[] {
  const sent = Array.from({ length: n }, (_, i): ChatMessage => {
    const seq = i + 1;
    const { reactions: _none, ...message } = serverMessage(seq, mine.has(seq) ? ME : 'u-other');
    if (!mine.has(seq)) return { ...message, status: 'sent', localCreatedAt: message.createdAt };
    const blob = blobs.get(seq);
    return { ...message, status: 'sent', localCreatedAt: seq, ...(blob ? { localImage: blob } : {}) };
  });
  return [...sent, ...unacked];
}


describe('RoomMessages in a room larger than the window', () => {
  const HELD = SHOWN_MESSAGES + 120;
  const filled = () => {
    const store = new RoomMessages(ROOM, () => ME);
    const all = Array.from({ length: HELD }, (_, i) => serverMessage(i + 1));
    for (let i = 0; i < all.length; i += 100) store.mergeServer(all.slice(i, i + 100));
    return store;
  };

  it('shows the newest messages, in order, and says older ones exist', () => {
    const store = filled();
    const { messages, hasMore } = store.getSnapshot();
    expect(messages.map((m) => m.seq)).toEqual(Array.from({ length: SHOWN_MESSAGES }, (_, i) => HELD - SHOWN_MESSAGES + 1 + i));
    expect(hasMore).toBe(true);
    expect(store.lowestSeq).toBe(1);
  });

  it('a live message makes a new snapshot with it last and leaves the one a view holds as it was', () => {
    const store = filled();
    const before = store.getSnapshot();
    const copy = [...before.messages];
    store.mergeServer([serverMessage(HELD + 1)]);
    const after = store.getSnapshot();
    expect(after).not.toBe(before);
    expect(after.messages.at(-1)?.seq).toBe(HELD + 1);
    expect(after.messages).toHaveLength(SHOWN_MESSAGES);
    expect(before.messages).toEqual(copy);
    // Rows that did not change keep their objects, so memoised rows do not re-render.
    expect(after.messages[0]).toBe(before.messages[1]);
  });

  it('shows held older messages on showOlder, without duplicates, until none is hidden', () => {
    const store = filled();
    expect(store.showOlder(50)).toBe(true);
    expect(seqs(store)).toHaveLength(SHOWN_MESSAGES + 50);
    expect(store.showOlder(100)).toBe(true);
    const all = seqs(store);
    expect(all).toEqual(Array.from({ length: HELD }, (_, i) => i + 1));
    expect(store.getSnapshot().hasMore).toBe(false);
    // Nothing hidden any more: the next older page has to come from the server.
    expect(store.showOlder(50)).toBe(false);
  });

  it('finds a message older than the window, and keeps unsent ones after the window', () => {
    const store = filled();
    expect(store.find('m1')?.seq).toBe(1);
    store.addPending(pending('local-1', 9_999_999));
    const { messages } = store.getSnapshot();
    expect(messages.at(-1)?.clientId).toBe('local-1');
    expect(messages.filter((m) => m.status === 'sent')).toHaveLength(SHOWN_MESSAGES);
  });
});

describe('RoomMessages properties', () => {
  it('any interleaving of events, pages, duplicates and acks gives one snapshot', () => {
    const scenario = fc
      .integer({ min: 1, max: 40 })
      .chain((n) => {
        const seq = fc.integer({ min: 1, max: n });
        const slice = fc.tuple(seq, seq).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
        return fc.record({
          n: fc.constant(n),
          mine: fc.uniqueArray(seq, { maxLength: n }),
          // History pages (before), catch-up pages (after) and events are all slices of 1..n.
          pageSize: fc.integer({ min: 1, max: 10 }),
          extra: fc.array(slice, { maxLength: 12 }),
          shuffleSeed: fc.array(fc.nat(), { minLength: 1, maxLength: 200 }),
          batchEvery: fc.integer({ min: 0, max: 5 }),
          unackedCount: fc.integer({ min: 0, max: 3 }),
        });
      });

    fc.assert(
      fc.property(scenario, ({ n, mine: mineList, pageSize, extra, shuffleSeed, batchEvery, unackedCount }) => {
        const mine = new Set(mineList);
        const blobs = new Map(mineList.filter((s) => s % 2 === 0).map((s) => [s, new Blob([`img${s}`])] as const));
        const message = (s: number) => serverMessage(s, mine.has(s) ? ME : 'u-other');

        // Every message arrives at least once: as its page, as an event, and (if mine) as a reply.
        const deliveries: Message[][] = [];
        for (let start = 1; start <= n; start += pageSize) {
          const page = [];
          for (let s = start; s < start + pageSize && s <= n; s++) page.push(message(s));
          deliveries.push(page);
        }
        for (let s = 1; s <= n; s++) deliveries.push([message(s)]);
        for (const s of mine) deliveries.push([message(s)]);
        for (const [a, b] of extra) deliveries.push(Array.from({ length: b - a + 1 }, (_, i) => message(a + i)));
        // Fisher-Yates driven by the generated numbers, so fast-check can shrink it.
        for (let i = deliveries.length - 1; i > 0; i--) {
          const j = (shuffleSeed[i % shuffleSeed.length] as number) % (i + 1);
          [deliveries[i], deliveries[j]] = [deliveries[j] as Message[], deliveries[i] as Message[]];
        }

        const store = new RoomMessages(ROOM);
        // send() is synchronous, so the optimistic copies exist before any reply.
        const sortedMine = [...mine].sort((a, b) => a - b);
        for (const s of sortedMine) {
          const blob = blobs.get(s);
          store.addPending(pending(`c${s}`, s, blob ? { localImage: blob } : {}));
        }
        const unacked = Array.from({ length: unackedCount }, (_, i) => pending(`never-${i}`, 1_000 + i));
        for (const m of unacked) store.addPending(m);

        const held = new Set<number>();
        const check = () => {
          const snapshot = seqs(store).filter((s): s is number => s !== null);
          for (let i = 1; i < snapshot.length; i++) expect(snapshot[i]).toBeGreaterThan(snapshot[i - 1] as number);
          expect(new Set(snapshot)).toEqual(held);
          const lowest = held.size ? Math.min(...held) : null;
          let contiguous = lowest === null ? 0 : lowest;
          while (held.has(contiguous + 1)) contiguous++;
          expect(store.highestContiguousSeq).toBe(contiguous);
          expect(store.lowestSeq).toBe(lowest);
        };

        let i = 0;
        while (i < deliveries.length) {
          const group = deliveries.slice(i, i + Math.max(1, batchEvery));
          i += group.length;
          store.batch(() => {
            for (const page of group) store.mergeServer(page);
          });
          for (const page of group) for (const m of page) held.add(m.seq);
          check();
        }

        expect(store.getSnapshot().messages).toEqual(expected(n, mine, blobs, unacked));
        expect(store.highestContiguousSeq).toBe(n);
        const before = store.getSnapshot();
        store.mergeServer(deliveries.flat());
        expect(store.getSnapshot()).toBe(before);
      }),
      { numRuns: 300 },
    );
  }, 30_000); // CPU-bound (hundreds of runs): give it room on a busy machine
});
