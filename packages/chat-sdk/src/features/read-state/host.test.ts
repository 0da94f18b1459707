import { afterEach, describe, expect, it, vi } from 'vitest';
import { ChatError, type Message, type Room } from '../../protocol/index.js';
import type { HostEvent, Session } from '../../contract/host-api.js';
import type { HostContext } from '../../contract/host-context.js';
import { MemoryStorage } from '../../storage/memory-storage.js';
import { RoomList } from '../rooms/host.js';
import { ReadState } from './host.js';

const me = 'u-me';
const session: Session = { user: { id: me, email: 'me@x.io', name: 'me', createdAt: 1 }, token: 't' };
const room = (lastSeq: number, extra: Partial<Room> = {}): Room => ({
  id: 'r1', name: null, memberIds: [me, 'u-bob'], createdBy: me, createdAt: 1, lastSeq, lastMessage: null, ...extra,
});
const message = (seq: number, senderId = 'u-bob'): Message => ({
  id: `m${seq}`, roomId: 'r1', senderId, clientId: `c${seq}`, seq, text: 't', image: null, createdAt: seq,
});

interface Call {
  data: { roomId: string; seq: number };
  resolve(reply: { roomId: string; seq: number; unreadCount: number }): void;
  reject(error: unknown): void;
}

/** A ReadState over a real RoomList and memory storage; requests wait until the test answers them. */
async function setup(initial: Room, options: { open?: boolean } = {}) {
  const storage = new MemoryStorage();
  const calls: Call[] = [];
  const errors: unknown[] = [];
  const events: HostEvent[] = [];
  let open = options.open ?? true;
  const context: HostContext = {
    storage,
    session: () => session,
    request: ((_action: string, data: Call['data']) =>
      new Promise<unknown>((resolve, reject) => calls.push({ data, resolve, reject }))) as HostContext['request'],
    emit: (event) => events.push(event),
    track: (write) => void write,
    report: (error) => errors.push(error),
  };
  let reads: ReadState;
  const rooms = new RoomList(context, { overlay: (r) => reads.overlay(r) });
  reads = new ReadState(context, rooms, () => open);
  await storage.cache.putRooms(me, [initial]);
  await reads.load(me);
  await rooms.load(session);
  const flushed = () => new Promise((resolve) => setTimeout(resolve, 0));
  return {
    storage, calls, errors, events, rooms, reads, flushed,
    current: () => rooms.get('r1')!,
    setOpen: (value: boolean) => (open = value),
    stored: () => storage.reads.listByUser(me),
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('ReadState (the host part of read state)', () => {
  it('stores the cursor before the wire, shows it at once, and forgets the row once acknowledged', async () => {
    const t = await setup(room(5, { unreadCount: 5 }));
    await t.reads.mark({ type: 'markRead', roomId: 'r1' });
    expect(await t.stored()).toEqual([{ userId: me, roomId: 'r1', seq: 5 }]);
    expect(t.current()).toMatchObject({ unreadCount: 0, readSeqs: { [me]: 5 } });
    expect(t.calls.map((c) => c.data)).toEqual([{ roomId: 'r1', seq: 5 }]);
    t.calls[0]!.resolve({ roomId: 'r1', seq: 5, unreadCount: 0 });
    await t.flushed();
    expect(await t.stored()).toEqual([]);
    expect(t.current()).toMatchObject({ unreadCount: 0, readSeqs: { [me]: 5 } });
  });

  it('coalesces: marks made while one is in flight go out as one request for the highest', async () => {
    const t = await setup(room(9, { unreadCount: 9 }));
    await t.reads.mark({ type: 'markRead', roomId: 'r1', seq: 2 });
    await t.reads.mark({ type: 'markRead', roomId: 'r1', seq: 4 });
    await t.reads.mark({ type: 'markRead', roomId: 'r1', seq: 3 }); // lower than pending: nothing
    await t.reads.mark({ type: 'markRead', roomId: 'r1', seq: 6 });
    expect(t.calls.map((c) => c.data.seq)).toEqual([2]);
    t.calls[0]!.resolve({ roomId: 'r1', seq: 2, unreadCount: 7 });
    await t.flushed();
    // The acknowledgement of 2 must not drop the 6 still to send, nor show 7 unread.
    expect(await t.stored()).toEqual([{ userId: me, roomId: 'r1', seq: 6 }]);
    expect(t.calls.map((c) => c.data.seq)).toEqual([2, 6]);
    t.calls[1]!.resolve({ roomId: 'r1', seq: 6, unreadCount: 3 });
    await t.flushed();
    expect(t.current()).toMatchObject({ unreadCount: 3, readSeqs: { [me]: 6 } });
    expect(await t.stored()).toEqual([]);
    // At or below the cursor: idempotent, nothing sent.
    await t.reads.mark({ type: 'markRead', roomId: 'r1', seq: 6 });
    expect(t.calls).toHaveLength(2);
  });

  it('offline: kept in storage and sent on the next flush (a reconnect); a new host picks the row up', async () => {
    const t = await setup(room(3, { unreadCount: 3 }), { open: false });
    await t.reads.mark({ type: 'markRead', roomId: 'r1' });
    expect(t.calls).toEqual([]);
    expect(t.current().unreadCount).toBe(0);
    t.setOpen(true);
    t.reads.flush();
    expect(t.calls.map((c) => c.data)).toEqual([{ roomId: 'r1', seq: 3 }]);

    // A reload: a new ReadState over the same storage sends it again, and shows it before then.
    const again = new ReadState({ ...contextOf(t), storage: t.storage }, t.rooms, () => true);
    await again.load(me);
    expect(again.overlay(room(3, { unreadCount: 3 }))).toMatchObject({ unreadCount: 0, readSeqs: { [me]: 3 } });
  });

  it('a retryable failure keeps the cursor for later; a final one drops it and reports', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const t = await setup(room(4));
    await t.reads.mark({ type: 'markRead', roomId: 'r1' });
    t.calls[0]!.reject(new ChatError('RATE_LIMITED', 'slow down', { retryAfterMs: 1500 }));
    await Promise.resolve();
    await Promise.resolve();
    expect(await t.stored()).toHaveLength(1);
    vi.advanceTimersByTime(1500);
    expect(t.calls).toHaveLength(2);
    t.calls[1]!.reject(new ChatError('FORBIDDEN', 'not a member of this room'));
    await vi.waitFor(async () => expect(await t.stored()).toEqual([]));
    expect(t.errors).toEqual([expect.objectContaining({ code: 'FORBIDDEN' })]);
  });

  it('counts others\' live messages past the cursor and the list; not the user\'s own, not what is read', async () => {
    const t = await setup(room(2, { unreadCount: 0, readSeqs: { [me]: 2 } }));
    const before = t.events.length;
    t.reads.delivered('r1', [message(3), message(4, me), message(5)]);
    expect(t.current().unreadCount).toBe(2);
    t.rooms.bump('r1', [message(3), message(4, me), message(5)]);
    await Promise.resolve(); // the room list tells its changes once per burst, a microtask later
    // One rooms event for the count and the bump together.
    expect(t.events.slice(before)).toEqual([{ type: 'rooms', rooms: [expect.objectContaining({ unreadCount: 2, lastSeq: 5 })] }]);
    t.reads.delivered('r1', [message(5)]); // already counted (at or below lastSeq)
    expect(t.current()).toMatchObject({ unreadCount: 2, lastSeq: 5 });
  });

  it('read events: others\' cursors move receipts; the user\'s own (another device) brings its count, unless a higher mark is pending', async () => {
    const t = await setup(room(6, { unreadCount: 6 }));
    t.reads.read({ roomId: 'r1', userId: 'u-bob', seq: 4 });
    expect(t.current()).toMatchObject({ unreadCount: 6, readSeqs: { 'u-bob': 4 } });
    t.reads.read({ roomId: 'r1', userId: 'u-bob', seq: 3 }); // never back
    expect(t.current().readSeqs).toEqual({ 'u-bob': 4 });
    t.reads.read({ roomId: 'r1', userId: me, seq: 2, unreadCount: 4 });
    expect(t.current()).toMatchObject({ unreadCount: 4, readSeqs: { 'u-bob': 4, [me]: 2 } });
    await t.reads.mark({ type: 'markRead', roomId: 'r1' }); // pending 6, in flight
    t.reads.read({ roomId: 'r1', userId: me, seq: 3, unreadCount: 3 });
    expect(t.current()).toMatchObject({ unreadCount: 0, readSeqs: { [me]: 6 } });
  });
});

function contextOf(t: Awaited<ReturnType<typeof setup>>): HostContext {
  return {
    storage: t.storage,
    session: () => session,
    request: (() => new Promise(() => {})) as HostContext['request'],
    emit: () => {},
    track: () => {},
    report: () => {},
  };
}
