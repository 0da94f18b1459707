// Limits across processes: a user spread over three processes gets the connections and the
// message rate of one, not three times them.
import { expect, test } from 'vitest';
import { PROTOCOL_VERSION } from '@chat/sdk/protocol';
import { startRedis } from '../../../../test/support/services.mjs';
import type { LimitSettings } from '../../src/index.js';
import { TestClient, createRoom, joinSession, sendText, sleep, signUp } from '../helpers.js';
import { clusterFixture } from './fixture.js';

const fixture = clusterFixture('chat_limits');
const { track } = fixture;
const cluster = (n: number, limits: Partial<LimitSettings>) => fixture.cluster(n, { limits });

test('the per-user connection cap holds across processes, and a closed connection frees its place everywhere', async () => {
  const [a, b, c] = await cluster(3, { connectionsPerUser: 2 });
  const ann = track(await signUp(a!, 'Ann'));
  const onB = track(await joinSession(b!, ann.token));
  // Her third connection, on a third process, is one too many.
  const third = track(await TestClient.open(c!.wsUrl));
  expect(await third.fail('create_connection', { protocolVersion: PROTOCOL_VERSION, token: ann.token })).toBe('RATE_LIMITED');

  onB.close();
  await onB.closed;
  await sleep(300); // B tells Redis at its next sync
  const again = track(await TestClient.open(c!.wsUrl));
  expect((await again.request('create_connection', { protocolVersion: PROTOCOL_VERSION, token: ann.token })).ok).toBe(true);
});

test('a user sending through three processes gets the message rate of one', async () => {
  const burst = 6;
  const [a, b, c] = await cluster(3, { userMessages: { perSecond: 0.5, burst } });
  const ann = track(await signUp(a!, 'Ann'));
  const tabs = [ann.client, track(await joinSession(b!, ann.token)), track(await joinSession(c!, ann.token))];
  const ben = track(await signUp(a!, 'Ben'));
  const room = await createRoom(ann.client, [ben.user.id]);
  const started = Date.now();
  let stored = 0;
  let refused = 0;
  for (let round = 0; round < 8; round++) {
    for (const tab of tabs) {
      try {
        await sendText(tab, room.id, `round ${round}`);
        stored++;
      } catch (error) {
        expect(String(error)).toMatch(/RATE_LIMITED|too many messages/);
        refused++;
      }
    }
    await sleep(30);
  }
  const seconds = (Date.now() - started) / 1000;
  // One process's worth: the burst plus what refilled meanwhile, plus what processes spend
  // between syncs before they hear of each other's sends (up to a token or so each; 10 of
  // burst 6 seen on a loaded machine). Three separate processes would let 3 x 6 through.
  expect(stored).toBeLessThanOrEqual(burst + Math.ceil(seconds * 0.5) + tabs.length + 1);
  expect(stored).toBeLessThan(2 * burst);
  expect(stored).toBeGreaterThanOrEqual(burst - 2);
  expect(refused).toBeGreaterThan(0);
});

test('Redis down: each process limits on its own (fail open), and people go on chatting', async () => {
  const own = await startRedis(); // this test's own Redis, stopped for good below
  const burst = 4;
  const db = await fixture.databases.create();
  const [a, b] = [0, 1].map(() => fixture.start({ db, redis: own.url, limits: { userMessages: { perSecond: 0.1, burst } } }));
  const servers = [await a!, await b!];
  const ann = track(await signUp(servers[0]!, 'Ann'));
  const ben = track(await signUp(servers[0]!, 'Ben'));
  const room = await createRoom(ann.client, [ben.user.id]);
  await own.stop();

  // Still answered, and still limited: by this process's own bucket.
  let stored = 0;
  let refused = 0;
  for (let k = 0; k < burst * 3; k++) {
    const reply = await ann.client.request('create_message', { roomId: room.id, clientId: `down-${k}`, text: `down ${k}` });
    if (reply.ok) stored++;
    else if (reply.error?.code === 'RATE_LIMITED') refused++;
  }
  expect(stored).toBeGreaterThanOrEqual(1);
  expect(stored).toBeLessThanOrEqual(burst + 1);
  expect(stored + refused).toBe(burst * 3);
});
