import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import { client, email, server, until } from './helpers.js';

let srv: RunningServer;
const clients: ChatClient[] = [];
const open = (...args: Parameters<typeof client>) => {
  const c = client(...args);
  clients.push(c);
  return c;
};

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv?.close();
});

describe('client basics', () => {
  it('signs up, creates a room, sends optimistically, and the other member receives it', async () => {
    srv = await server();
    const alice = open(srv);
    const bob = open(srv);
    const a = await alice.signUp({ email: email('alice'), name: 'Alice' });
    const b = await bob.signUp({ email: email('bob'), name: 'Bob' });
    expect(alice.session.getSnapshot()?.user.id).toBe(a.id);
    await until(alice.connection, (s) => s.status === 'open');

    const room = await alice.createRoom({ memberIds: [b.id], name: 'pair' });
    await until(alice.rooms, (rooms) => rooms.some((r) => r.id === room.id));
    await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));

    const aliceMessages = alice.messages(room.id);
    await until(aliceMessages, (s) => !s.loading);
    let notifications = 0;
    aliceMessages.subscribe(() => notifications++);
    const sent = alice.send(room.id, { text: 'hello bob' });
    expect(sent.status).toBe('pending');
    expect(aliceMessages.getSnapshot().messages.map((m) => m.clientId)).toEqual([sent.clientId]);

    const done = await until(aliceMessages, (s) => s.messages[0]?.status === 'sent');
    expect(done.messages[0]).toMatchObject({ clientId: sent.clientId, seq: 1, text: 'hello bob', senderId: a.id });
    // Pending, then sent: the host's echo of the send and the second acknowledgement change nothing.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(notifications).toBe(2);

    const bobMessages = bob.messages(room.id);
    const got = await until(bobMessages, (s) => s.messages.length === 1);
    expect(got.messages[0]).toMatchObject({ clientId: sent.clientId, seq: 1, status: 'sent' });
    expect(srv.stats().perUser[a.id]).toBe(1);
  });

  it('rejects bad input at once with a ChatError and stores nothing', async () => {
    srv = await server();
    const alice = open(srv);
    const b = await open(srv).signUp({ email: email('b') });
    await alice.signUp({ email: email('a') });
    const room = await alice.createRoom({ memberIds: [b.id] });
    expect(() => alice.send(room.id, { text: '   ' })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST' }));
    expect(() => alice.send(room.id, { text: 'x'.repeat(4001) })).toThrowError(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => alice.send('nope', { text: 'hi' })).toThrowError(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => alice.send(room.id, { image: { size: 3 } as never })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST' }));
    const big = new Blob([new Uint8Array(5 * 1024 * 1024 + 1)], { type: 'image/png' });
    expect(() => alice.send(room.id, { image: big })).toThrowError(expect.objectContaining({ code: 'TOO_LARGE' }));
    const text = new Blob(['hi'], { type: 'text/plain' });
    expect(() => alice.send(room.id, { image: text })).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST' }));
    const snapshot = await until(alice.messages(room.id), (s) => !s.loading);
    expect(snapshot.messages).toEqual([]);
  });
});
