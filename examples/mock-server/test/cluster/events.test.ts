// Issue 16: several server processes over one PostgreSQL database and one Redis. Here three
// `startServer` instances in this process on different ports share both: events (messages,
// read cursors, typing) and session closes cross between them through Redis pub/sub;
// concurrent writes through all three keep seqs gapless; and a Redis restart mid-traffic
// loses only events, never messages: they are stored, a fresh get_messages has them, and
// events flow again once Redis is back.
import { expect, test } from 'vitest';
import { CloseCode } from '@chat/sdk/protocol';
import { startRedis } from '../../../../test/support/services.mjs';
import { startServer, TEST_SERVER_OPTIONS } from '../../src/index.js';
import { createRoom, eventually, joinSession, sendText, signUp, sleep } from '../helpers.js';
import { clusterFixture } from './fixture.js';

const fixture = clusterFixture('chat_cluster');
const { cluster, track } = fixture;

test('a message, a read cursor and typing sent through one server reach clients of the others', async () => {
  const [a, b, c] = await cluster(3);
  const ann = track(await signUp(a!, 'Ann'));
  const ben = track(await signUp(b!, 'Ben'));
  const cat = track(await signUp(c!, 'Cat'));
  // Ann's second tab is on server C: her own events reach it too.
  const annTab = track(await joinSession(c!, ann.token));
  const room = await createRoom(ben.client, [ann.user.id, cat.user.id], 'across');
  await ann.client.waitForEvent('room_created', (d) => d.room.id === room.id);
  await cat.client.waitForEvent('room_created', (d) => d.room.id === room.id);

  const sent = await sendText(ben.client, room.id, 'hello from B', 'x-1');
  for (const client of [ann.client, annTab, cat.client]) {
    const event = await client.waitForEvent('message_created', (d) => d.message.clientId === 'x-1');
    expect(event.data.message).toEqual(sent.message);
  }
  // Each process delivers once: the publisher ignores its own echo.
  await sleep(100);
  expect(ben.client.eventsNamed('message_created').filter((e) => e.data.message.clientId === 'x-1')).toHaveLength(1);
  expect(ann.client.eventsNamed('message_created').filter((e) => e.data.message.clientId === 'x-1')).toHaveLength(1);

  // Ann reads on A: Ben (B) and Cat (C) see her cursor, her tab on C gets its unread count.
  await ann.client.call('mark_read', { roomId: room.id, seq: sent.message.seq });
  const read = await ben.client.waitForEvent('read', (d) => d.userId === ann.user.id);
  expect(read.data).toEqual({ roomId: room.id, userId: ann.user.id, seq: 1 });
  await cat.client.waitForEvent('read', (d) => d.userId === ann.user.id);
  expect((await annTab.waitForEvent('read', (d) => d.userId === ann.user.id)).data).toEqual({ roomId: room.id, userId: ann.user.id, seq: 1, unreadCount: 0 });

  // Typing on C: others hear it on A and B; `except` (the typing connection) applies only on C,
  // so Ann's other connection on A hears it.
  await annTab.call('typing', { roomId: room.id });
  await ben.client.waitForEvent('typing', (d) => d.userId === ann.user.id && d.until > 0);
  await cat.client.waitForEvent('typing', (d) => d.userId === ann.user.id && d.until > 0);
  await ann.client.waitForEvent('typing', (d) => d.userId === ann.user.id && d.until > 0);
  expect(annTab.eventsNamed('typing')).toHaveLength(0);
});

test('signing out on one server closes the session’s connections on the others', async () => {
  const [a, b] = await cluster(2);
  const ann = track(await signUp(a!, 'Ann'));
  const tab = track(await joinSession(b!, ann.token));
  await ann.client.call('delete_connection');
  expect((await tab.closed).code).toBe(CloseCode.SESSION_REVOKED);
  expect((await ann.client.closed).code).toBe(CloseCode.NORMAL);
});

test('concurrent create_message into one room through 3 servers: gapless seqs, each message once everywhere', async () => {
  const servers3 = await cluster(3);
  const people = await Promise.all(servers3.map((server, i) => signUp(server, `P${i}`).then(track)));
  const room = await createRoom(people[0]!.client, people.slice(1).map((p) => p.user.id), 'race');
  await Promise.all(people.slice(1).map((p) => p.client.waitForEvent('room_created', (d) => d.room.id === room.id)));
  const perSender = 15;
  const replies = await Promise.all(
    people.flatMap((p, i) => Array.from({ length: perSender }, (_, k) => sendText(p.client, room.id, `m ${i}.${k}`, `r-${i}-${k}`))),
  );
  const total = perSender * people.length;
  expect(replies.map((r) => r.message.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  // Every client, whichever server it is on, got each message exactly once.
  for (const p of people) {
    await eventually(() => p.client.eventsNamed('message_created').length >= total, 8000);
    await sleep(50);
    const seqs = p.client.eventsNamed('message_created').map((e) => e.data.message.seq as number);
    expect(seqs.sort((x, y) => x - y)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  }
});

test('Redis restarted mid-traffic: every message is stored, a fresh get_messages has it, events flow again after', async () => {
  const [a, b] = await cluster(2);
  const ann = track(await signUp(a!, 'Ann'));
  const ben = track(await signUp(b!, 'Ben'));
  const room = await createRoom(ann.client, [ben.user.id], 'outage');
  await ben.client.waitForEvent('room_created', (d) => d.room.id === room.id);

  // Traffic from A while Redis goes down and comes back: every send is answered (local
  // delivery and storage do not need Redis); Ben on B may miss some of the events.
  let stop = false;
  let i = 0;
  const sender = (async () => {
    while (!stop) {
      await sendText(ann.client, room.id, `during ${++i}`, `o-${i}`);
      await sleep(10);
    }
  })();
  await sleep(100);
  await fixture.redis.restart();
  await sleep(100);
  // On a loaded machine a send can take long: a few more once Redis is back.
  await eventually(() => i > 5, 10_000);
  stop = true;
  await sender;
  const sentDuring = i;
  expect(sentDuring).toBeGreaterThan(5);

  // Ben catches up as a client does after a reconnect: a fresh get_messages has every one.
  const page = await ben.client.call('get_messages', { roomId: room.id });
  expect(page.messages.map((m: { seq: number }) => m.seq)).toEqual(Array.from({ length: sentDuring }, (_, k) => k + 1));

  // Once both processes are connected to Redis again, events cross again.
  let n = 0;
  const started = Date.now();
  for (;;) {
    const clientId = `after-${++n}`;
    await sendText(ann.client, room.id, 'after', clientId);
    try {
      await ben.client.waitFor((f) => f.type === 'event' && f.event === 'message_created' && (f.data as any).message.clientId === clientId, 500);
      break;
    } catch {
      if (Date.now() - started > 10_000) throw new Error('events did not cross again within 10 s of Redis coming back');
    }
  }
}, 20_000);

test('a server whose Redis cannot be reached does not start, and says why', async () => {
  const db = await fixture.databases.create();
  const stopped = await startRedis();
  const url = stopped.url;
  await stopped.stop();
  await expect(startServer({ ...TEST_SERVER_OPTIONS, db, redis: url })).rejects.toThrow(/cannot reach Redis at redis:\/\/127\.0\.0\.1/);
});
