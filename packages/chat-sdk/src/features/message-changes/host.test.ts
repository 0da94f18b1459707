import { describe, expect, it } from 'vitest';
import type { Message, Room } from '../../protocol/index.js';
import type { HostEvent, Session } from '../../contract/host-api.js';
import type { HostContext } from '../../contract/host-context.js';
import { MemoryStorage } from '../../storage/memory-storage.js';
import { RoomList } from '../rooms/host.js';
import { HostChanges } from './host.js';

const me = 'u-me';
const session: Session = { user: { id: me, email: 'me@x.io', name: 'me', createdAt: 1 }, token: 't' };
const room = (lastRev: number): Room => ({
  id: 'r1', name: null, memberIds: [me, 'u-bob'], createdBy: me, createdAt: 1, lastSeq: 3, lastMessage: null, lastRev,
});
const message = (seq: number, rev: number, text = `t${seq}`): Message => ({
  id: `m${seq}`, roomId: 'r1', senderId: 'u-bob', clientId: `c${seq}`, seq, text, image: null, createdAt: seq, rev,
});

interface Call { data: { roomId: string; afterRev: number }; resolve(reply: { messages: Message[]; hasMore: boolean; lastRev: number }): void }

async function setup(initial: Room) {
  const storage = new MemoryStorage();
  const calls: Call[] = [];
  const errors: unknown[] = [];
  const events: HostEvent[] = [];
  const writes: Promise<void>[] = [];
  const context: HostContext = {
    storage,
    session: () => session,
    request: ((_action: string, data: Call['data']) => new Promise((resolve) => calls.push({ data, resolve: resolve as Call['resolve'] }))) as unknown as HostContext['request'],
    emit: (event) => events.push(event),
    track: (write) => void writes.push(write),
    report: (error) => errors.push(error),
  };
  const rooms = new RoomList(context, {});
  await storage.cache.putRooms(me, [initial]);
  await rooms.load(session);
  const changes = new HostChanges(context, rooms);
  await changes.load(me);
  const tick = () => new Promise((resolve) => setTimeout(resolve, 0));
  const updates = () => events.flatMap((e) => (e.type === 'messageUpdates' ? e.messages.map((m) => [m.id, m.rev]) : []));
  return { storage, calls, errors, events, rooms, changes, tick, updates, settle: () => Promise.all(writes) };
}

describe('HostChanges (the host part of message changes)', () => {
  it('passes each change on once, moves the counter with live changes that follow it, and stores it', async () => {
    const t = await setup(room(4));
    t.changes.anchor('r1', [message(1, 2)]);
    expect(t.changes.rev('r1')).toBe(4);
    t.changes.live(message(1, 5)); // a reply ...
    t.changes.live(message(1, 5)); // ... and its event
    t.changes.live(message(2, 6));
    expect(t.updates()).toEqual([['m1', 5], ['m2', 6]]);
    expect(t.changes.rev('r1')).toBe(6);
    expect(t.calls).toEqual([]);
    await t.settle();
    expect(await t.storage.cache.getRevs(me)).toEqual({ r1: 6 });
    expect(t.rooms.get('r1')?.lastRev).toBe(6);
  });

  it('a live change past a hole asks get_changes from the counter, page by page, up to the room\'s lastRev', async () => {
    const t = await setup(room(0));
    t.changes.anchor('r1', []);
    t.changes.live(message(3, 4)); // revs 1-3 never heard of
    await t.tick();
    expect(t.calls.map((c) => c.data.afterRev)).toEqual([0]);
    t.calls[0]!.resolve({ messages: [message(1, 1), message(2, 2)], hasMore: true, lastRev: 4 });
    await t.tick();
    expect(t.calls.map((c) => c.data.afterRev)).toEqual([0, 2]);
    t.calls[1]!.resolve({ messages: [message(1, 3), message(3, 4)], hasMore: false, lastRev: 4 });
    await t.tick();
    expect(t.changes.rev('r1')).toBe(4);
    // m3 rev 4 was passed on live already: not again.
    expect(t.updates()).toEqual([['m3', 4], ['m1', 1], ['m2', 2], ['m1', 3]]);
  });

  it('catches up after a reconnect only the held rooms behind the server, and stops with an error when a page makes no progress', async () => {
    const t = await setup(room(7));
    await t.changes.catchUp([room(7)]); // not held: nothing to ask
    expect(t.calls).toEqual([]);
    await t.storage.cache.updateMessages(me, 'r1', [], 5);
    const again = new HostChanges({ ...((t.changes as unknown as { host: HostContext }).host) }, t.rooms);
    await again.load(me);
    expect(again.rev('r1')).toBe(5);
    const done = again.catchUp([room(7)]);
    await t.tick();
    t.calls[0]!.resolve({ messages: [message(1, 5)], hasMore: true, lastRev: 7 });
    await done;
    expect(t.errors).toMatchObject([{ code: 'INTERNAL' }]);
    expect(again.rev('r1')).toBe(5);
    await again.catchUp([room(5)]);
    expect(t.calls).toHaveLength(1);
  });
});
