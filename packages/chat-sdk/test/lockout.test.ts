import { expect, it } from 'vitest';
import WebSocket from 'ws';
import { PROTOCOL_VERSION } from '../src/protocol/index.js';
import { client, email, server, until } from './helpers.js';

/**
 * The lock-out attack of the issue, as a test and a figure (docs/reliability.md): someone
 * puts a victim into 1,000 rooms, each with one 16 KB message. Version 1 answered the
 * victim's `get_user_rooms` with one 16.4 MB reply, the server closed the victim (1013)
 * and the SDK reconnected at once, 25 times in 25 s. Now every reply is a bounded page,
 * the victim stays connected, sees every room, and can leave and block the sender.
 */
it('1,000 rooms with a 16 KB message each around a victim: bounded replies, no reconnect', async () => {
  // At the server's defaults the attack cannot be built (60 rooms an hour per user, 20 messages
  // a second, replies charged by their bytes: docs/security.md); lifted here so the victim's
  // side can be measured: one address plays both parts on loopback.
  const lots = { perSecond: 1e9, burst: 1e9 };
  const srv = await server({
    rateLimit: { perSecond: 100_000, burst: 100_000 },
    limits: { roomsPerUser: lots, userMessages: lots, userRequests: lots, ipRequests: lots, userBytes: lots, ipBytes: lots, serverBytes: lots },
  });
  const attacker = new WebSocket(srv.wsUrl);
  await new Promise((resolve) => attacker.once('open', resolve));
  const pending = new Map<string, (data: any) => void>();
  attacker.on('message', (raw) => {
    const frame = JSON.parse(String(raw));
    const settle = pending.get(frame.requestId);
    if (frame.type !== 'reply' || !settle) return;
    pending.delete(frame.requestId);
    settle(frame.ok ? frame.data : Promise.reject(frame.error));
  });
  let next = 0;
  const call = (action: string, data: unknown) =>
    new Promise<any>((resolve) => {
      const requestId = `a${next++}`;
      pending.set(requestId, resolve);
      attacker.send(JSON.stringify({ action, requestId, data }));
    });
  attacker.on('close', (code) => {
    for (const settle of pending.values()) settle(Promise.reject(new Error(`attacker closed ${code}`)));
    pending.clear();
  });
  const victimEmail = email('victim');
  const victim = (await call('create_user', { email: victimEmail })).user;
  const mallory = (await call('create_user', { email: email('mallory') })).user;
  await call('create_connection', { protocolVersion: PROTOCOL_VERSION, email: mallory.email });
  const text = '😀'.repeat(4000); // 16,000 bytes of UTF-8
  const made = await Promise.all(Array.from({ length: 1000 }, () => call('create_room', { memberIds: [victim.id] })));
  // In batches: the attacker hears its own 16 KB messages too, and must keep under the server's send cap.
  for (let i = 0; i < made.length; i += 100) {
    await Promise.all(made.slice(i, i + 100).map(({ room }, j) => call('create_message', { roomId: room.id, clientId: `spam-${i + j}`, text })));
  }

  let sockets = 0;
  let largest = 0;
  let received = 0;
  class Measured extends WebSocket {
    constructor(url: string) {
      super(url);
      sockets++;
      this.on('message', (data: Buffer) => {
        received += data.length;
        largest = Math.max(largest, data.length);
      });
    }
  }
  const c = client(srv, { storage: 'memory', WebSocket: Measured as never });
  try {
    const started = performance.now();
    await c.login({ email: victimEmail });
    const rooms = await until(c.rooms, (list) => list.length === 1000, 30_000, 'all 1,000 rooms');
    const loaded = Math.round(performance.now() - started);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(c.connection.getSnapshot().status).toBe('open');
    expect(sockets).toBe(1); // not one reconnect
    expect(largest).toBeLessThan(512 * 1024); // a page of 25 rooms, not 16 MB
    console.log(`lock-out: largest frame ${largest} bytes, ${received} bytes in all, ${sockets} socket(s), ${rooms.length} rooms in ${loaded} ms`);

    // The way out: leave with block, and the sender cannot add the victim again.
    await c.leaveRoom(rooms[0]!.id, { block: true });
    await expect(call('create_room', { memberIds: [victim.id] })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(c.rooms.getSnapshot()).toHaveLength(999);
  } finally {
    attacker.close();
    await c.close();
    await srv.close();
  }
}, 60_000);
