import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ActionName, Room } from '../../protocol/index.js';
import type { HostEvent, Session } from '../../contract/host-api.js';
import type { HostContext } from '../../contract/host-context.js';
import { MemoryStorage } from '../../storage/memory-storage.js';
import { ROOMS_SAVE_INTERVAL_MS, RoomList } from './host.js';

/** The host part of the room list over a scripted `request`: paging, live changes during a refresh, bursts. */

const session: Session = { user: { id: 'me', email: 'me@x.io', name: 'me', createdAt: 1 }, token: 't' };
const room = (id: string, createdAt: number, lastSeq = 0): Room => ({
  id, name: id, memberIds: ['me', 'u2'], createdBy: 'u2', createdAt, lastSeq, lastMessage: null,
});

function setup(answer: (action: ActionName, data: Record<string, unknown>) => Promise<unknown>) {
  const events: HostEvent[] = [];
  const errors: unknown[] = [];
  const requests: Array<Record<string, unknown>> = [];
  const host: HostContext = {
    storage: new MemoryStorage(),
    session: () => session,
    request: ((action: ActionName, data: Record<string, unknown>) => {
      requests.push({ action, ...data });
      return answer(action, data);
    }) as HostContext['request'],
    emit: (event) => void events.push(event),
    track: () => {},
    report: (error) => void errors.push(error),
  };
  const left: string[] = [];
  const list = new RoomList(host, { onLeft: (roomId) => void left.push(roomId) });
  const lists = () => events.filter((e) => e.type === 'rooms').map((e) => (e as { rooms: Room[] }).rooms.map((r) => r.id));
  return { list, events, errors, requests, left, lists, host };
}

describe('RoomList', () => {
  it('pages the list in, shows each page as it comes, and drops rooms no page named', async () => {
    const pages: Record<string, { rooms: Room[]; nextCursor: string | null }> = {
      first: { rooms: [room('r3', 30), room('r2', 20)], nextCursor: 'c1' },
      c1: { rooms: [room('r1', 10)], nextCursor: null },
    };
    const { list, requests, lists } = setup(async (_action, data) => {
      if (data.cursor === 'c1') list.created(room('live', 50)); // arrives while the list pages in
      return pages[(data.cursor as string) ?? 'first'];
    });
    await list.load(session);
    list.created(room('stale', 5)); // from before this refresh; the server no longer lists it
    const rooms = await list.refresh();
    expect(rooms.map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect(requests).toEqual([
      { action: 'get_user_rooms', limit: 25 },
      { action: 'get_user_rooms', limit: 25, cursor: 'c1' },
    ]);
    expect(list.current()!.map((r) => r.id)).toEqual(['live', 'r3', 'r2', 'r1']);
    // The first page showed before the second came (the old room was still there then).
    expect(lists().some((ids) => ids.includes('r3') && ids.includes('stale'))).toBe(true);
    expect(lists().at(-1)).toEqual(['live', 'r3', 'r2', 'r1']);
  });

  it('a room left while a refresh was on its way does not come back with the reply', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { list, left } = setup(async (action) => {
      if (action === 'leave_room') return { roomId: 'r1', duplicate: false };
      await gate;
      return { rooms: [room('r1', 10), room('r2', 20)], nextCursor: null };
    });
    await list.load(session);
    const refreshing = list.refresh();
    list.memberLeft('r1', 'me'); // another device of mine left it
    release();
    await refreshing;
    expect(list.current()!.map((r) => r.id)).toEqual(['r2']);
    expect(left).toEqual(['r1']);
    list.memberLeft('r2', 'u2'); // someone else left: the room stays, without them
    await Promise.resolve();
    expect(list.get('r2')!.memberIds).toEqual(['me']);
  });

  it('a reply read before a message change, handled after the change event, does not take the counter or the preview back', async () => {
    const before = { ...room('r1', 10, 1), lastRev: 2, lastMessage: { id: 'm1', roomId: 'r1', senderId: 'u2', clientId: 'c1', seq: 1, text: 'v2', image: null, createdAt: 1, rev: 2 } };
    let gate: Promise<void> = Promise.resolve();
    const { list } = setup(async () => {
      await gate;
      return { rooms: [before], nextCursor: null };
    });
    await list.load(session);
    await list.refresh(); // the room is in the list (a reconnect refreshes it again below)
    let release!: () => void;
    gate = new Promise<void>((resolve) => (release = resolve));
    const refreshing = list.refresh();
    await Promise.resolve();
    // The change event (rev 3) is handled first, as message changes pass it to the list.
    list.update('r1', (r) => ({ ...r, lastRev: 3, lastMessage: { ...before.lastMessage, text: 'v3', rev: 3 } }));
    release();
    await refreshing;
    expect(list.get('r1')).toMatchObject({ lastRev: 3, lastMessage: { text: 'v3', rev: 3 } });
  });

  it('stops with an error when a page hands back a cursor it gave before', async () => {
    const { list } = setup(async () => ({ rooms: [room('r1', 10)], nextCursor: 'same' }));
    await list.load(session);
    await expect(list.refresh()).rejects.toMatchObject({ code: 'INTERNAL' });
  });

  it('applies a burst of new rooms in one pass: one list, then one room event each', async () => {
    const { list, events, lists } = setup(async () => ({ rooms: [], nextCursor: null }));
    await list.load(session);
    events.length = 0;
    for (let i = 0; i < 3000; i++) list.created(room(`r${i}`, 100 + i));
    expect(events).toEqual([]); // nothing yet: the burst is applied after it
    await Promise.resolve();
    expect(lists()).toHaveLength(1);
    expect(lists()[0]![0]).toBe('r2999');
    expect(events.filter((e) => e.type === 'room')).toHaveLength(3000);
    expect(events[0]!.type).toBe('rooms');
  });

  it('a message of a room it does not hold fetches the first page once', async () => {
    const { list, requests } = setup(async () => ({ rooms: [room('r9', 90, 1)], nextCursor: 'c' }));
    await list.load(session);
    const message = { id: 'm1', roomId: 'r9', senderId: 'u2', clientId: 'c1', seq: 1, text: 'hi', image: null, createdAt: 95 };
    list.bump('r9', [message]);
    list.bump('r9', [message]);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(requests).toEqual([{ action: 'get_user_rooms', limit: 25 }]);
    expect(list.get('r9')).toMatchObject({ lastSeq: 1 });
  });

  describe('the cached list', () => {
    afterEach(() => void vi.useRealTimers());

    it('is written at most once a second however busy the rooms are, and the newest list is the one kept', async () => {
      vi.useFakeTimers({ now: 1_000_000 });
      const { list, host } = setup(async () => ({ rooms: [room('r1', 10), room('r2', 20)], nextCursor: null }));
      const storage = host.storage as MemoryStorage;
      const written: string[][] = [];
      const putRooms = storage.cache.putRooms.bind(storage.cache);
      storage.cache.putRooms = (userId, rooms) => (written.push(rooms.map((r) => `${r.id}:${r.lastSeq}`)), putRooms(userId, rooms));
      await list.load(session);
      await list.refresh();
      await vi.advanceTimersByTimeAsync(ROOMS_SAVE_INTERVAL_MS);
      written.length = 0;
      // 200 live messages, 10 ms apart, alternating between the two rooms: 2 s of traffic.
      for (let seq = 1; seq <= 200; seq++) {
        const roomId = seq % 2 ? 'r1' : 'r2';
        list.bump(roomId, [{ id: `m${seq}`, roomId, senderId: 'u2', clientId: `c${seq}`, seq, text: 'hi', image: null, createdAt: 1_000_000 + seq }]);
        await vi.advanceTimersByTimeAsync(10);
      }
      expect(written.length).toBeGreaterThanOrEqual(2);
      expect(written.length).toBeLessThanOrEqual(3);
      await vi.advanceTimersByTimeAsync(ROOMS_SAVE_INTERVAL_MS);
      expect(written.at(-1)).toEqual(['r2:200', 'r1:199']);
      expect(await storage.cache.getRooms('me')).toMatchObject([{ id: 'r2', lastSeq: 200 }, { id: 'r1', lastSeq: 199 }]);
    });

    it('is written at once when the host closes, not lost with the timer', async () => {
      vi.useFakeTimers({ now: 1_000_000 });
      const { list, host } = setup(async () => ({ rooms: [room('r1', 10)], nextCursor: null }));
      await list.load(session);
      await list.refresh();
      list.bump('r1', [{ id: 'm1', roomId: 'r1', senderId: 'u2', clientId: 'c1', seq: 1, text: 'hi', image: null, createdAt: 1_000_001 }]);
      await vi.advanceTimersByTimeAsync(1);
      list.flushCache();
      expect(await host.storage.cache.getRooms('me')).toMatchObject([{ id: 'r1', lastSeq: 1 }]);
    });
  });
});
