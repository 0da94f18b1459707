// Limits across processes: a user spread over three processes gets the connections and the
// message rate of one, not three times them.
import { afterAll, afterEach, beforeAll, expect, test } from 'vitest';
import { PROTOCOL_VERSION } from '@chat/sdk/protocol';
import { startRedis, type RunningRedis } from '../../../../test/support/services.mjs';
import { startServer, TEST_SERVER_OPTIONS, type RunningServer, type ServerOptions } from '../../src/index.js';
import { PostgresDatabases } from '../postgres-databases.js';
import { TestClient, createRoom, joinSession, sendText, sleep, signUp, type SignedIn } from '../helpers.js';

let databases: PostgresDatabases;
let redis: RunningRedis;
const servers = new Set<RunningServer>();
const clients = new Set<TestClient>();

async function cluster(n: number, limits: ServerOptions['limits']): Promise<RunningServer[]> {
  const db = await databases.create();
  const started: RunningServer[] = [];
  for (let i = 0; i < n; i++) {
    const server = await startServer({ ...TEST_SERVER_OPTIONS, db, redis: redis.url, limits: { ...TEST_SERVER_OPTIONS.limits, ...limits } });
    servers.add(server);
    started.push(server);
  }
  return started;
}

const track = <T extends TestClient | SignedIn>(value: T): T => {
  clients.add(value instanceof TestClient ? value : value.client);
  return value;
};

beforeAll(async () => {
  [databases, redis] = await Promise.all([PostgresDatabases.start('chat_limits'), startRedis()]);
});

afterEach(async () => {
  for (const client of clients) client.close();
  clients.clear();
  await Promise.all([...servers].map((server) => server.close()));
  servers.clear();
});

afterAll(async () => {
  await Promise.all([databases?.stop(), redis?.stop()]);
});

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
  // One process's worth: the burst plus what refilled meanwhile (and one in flight per
  // other process); three separate processes would have let 3 x 6 through.
  expect(stored).toBeLessThanOrEqual(burst + Math.ceil(seconds * 0.5) + 2);
  expect(stored).toBeGreaterThanOrEqual(burst - 2);
  expect(refused).toBeGreaterThan(0);
});
