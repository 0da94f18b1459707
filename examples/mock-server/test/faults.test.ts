import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningServer } from '../src/index.js';
import { TestClient, createRoom, eventually, serverFixture, signUp, sleep, uniqueEmail } from './helpers.js';

const fx = serverFixture();
let server: RunningServer;
beforeAll(async () => {
  server = await fx.start();
});
afterAll(() => fx.cleanup());
const user = async () => fx.track(await signUp(server));

describe('faults.dropAll', () => {
  test('without a code every socket is cut like a network loss; sessions survive', async () => {
    const s = await fx.start();
    const a = fx.track(await signUp(s));
    const anon = fx.track(await TestClient.open(s.wsUrl));
    s.faults.dropAll();
    expect((await a.client.closed).code).toBe(1006);
    expect((await anon.closed).code).toBe(1006);
    await eventually(() => s.stats().connections === 0);
    const back = fx.track(await TestClient.open(s.wsUrl));
    expect((await back.call('create_connection', { protocolVersion: 1, token: a.token })).user.id).toBe(a.user.id);
  });

  test('with a code every socket is closed cleanly with it', async () => {
    const s = await fx.start();
    const a = fx.track(await signUp(s));
    s.faults.dropAll(1012);
    expect(s.stats().connections).toBe(0);
    expect((await a.client.closed).code).toBe(1012);
  });
});

describe('faults.stall', () => {
  test('frames are read but answered only after the stall, in arrival order', async () => {
    const s = await fx.start();
    const a = fx.track(await signUp(s));
    const b = fx.track(await signUp(s));
    const room = await createRoom(a.client, [b.user.id]);
    const repliesBefore = a.client.frames.filter((f) => f.type === 'reply').length;
    s.faults.stall(250);
    const started = Date.now();
    const replies = [
      a.client.request('create_message', { roomId: room.id, clientId: 'st-1', text: 'one' }),
      b.client.request('create_message', { roomId: room.id, clientId: 'st-2', text: 'two' }),
      a.client.request('create_message', { roomId: room.id, clientId: 'st-3', text: 'three' }),
      a.client.request('ping'),
    ];
    await sleep(150);
    expect(a.client.frames.filter((f) => f.type === 'reply')).toHaveLength(repliesBefore);
    expect(b.client.frames.filter((f) => f.type === 'reply' && f.requestId !== undefined && f.data?.message)).toHaveLength(0);
    const done = await Promise.all(replies);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
    // Two sockets race on the wire, so only each connection's own order is defined.
    const seqs = done.slice(0, 3).map((r) => r.data.message.seq as number);
    expect([...seqs].sort()).toEqual([1, 2, 3]);
    expect(seqs[0]).toBeLessThan(seqs[2]!);
    expect(done[3]!.ok).toBe(true);
  });
});

describe('faults.failNextWrites', () => {
  test('the next writes reply INTERNAL (retryable) and store nothing; the retry succeeds without a gap', async () => {
    const a = await user();
    const b = await user();
    const room = await createRoom(a.client, [b.user.id]);
    server.faults.failNextWrites(3);
    const signup = await a.client.request('create_user', { email: uniqueEmail() });
    expect(signup.error).toMatchObject({ code: 'INTERNAL', retryable: true });
    expect((await a.client.request('create_room', { memberIds: [b.user.id], name: 'ghost' })).error?.code).toBe('INTERNAL');
    expect((await a.client.request('create_message', { roomId: room.id, clientId: 'f-1', text: 'lost' })).error?.code).toBe('INTERNAL');
    // Reads are untouched, and nothing was half-written.
    const rooms = (await a.client.call('get_user_rooms')).rooms;
    expect(rooms.map((r: { name: string | null }) => r.name)).not.toContain('ghost');
    expect(rooms.find((r: { id: string }) => r.id === room.id)).toMatchObject({ lastSeq: 0, lastMessage: null });
    const retry = await a.client.call('create_message', { roomId: room.id, clientId: 'f-1', text: 'lost' });
    expect(retry).toMatchObject({ duplicate: false, message: { seq: 1 } });
    await b.client.call('ping');
    expect(b.client.eventsNamed('message_created')).toHaveLength(1);
    expect(b.client.eventsNamed('room_created')).toHaveLength(1);
  });

  test('a validation error does not use up an injected failure', async () => {
    const a = await user();
    server.faults.failNextWrites(1);
    expect(await a.client.fail('create_room', { memberIds: [] })).toBe('BAD_REQUEST');
    expect(await a.client.fail('create_user', { email: uniqueEmail() })).toBe('INTERNAL');
    expect((await a.client.request('create_user', { email: uniqueEmail() })).ok).toBe(true);
  });
});
