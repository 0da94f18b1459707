// Presence across processes: a user is online while any process holds a connection of
// theirs (plus the grace after the last one), whichever process is asked, and a process
// killed with SIGKILL stops counting once its heartbeat key expires.
import { expect, test } from 'vitest';
import type { RunningServer } from '../../src/index.js';
import { type TestClient, createRoom, joinSession, signUp, sleep } from '../helpers.js';
import { eventually } from '../../../../test/support/browser.js';
import { clusterFixture } from './fixture.js';

const GRACE_MS = 300;
const PROCESS_TTL_MS = 1200;

const fixture = clusterFixture('chat_presence');
const { track } = fixture;
const cluster = (n: number, db?: string) => fixture.cluster(n, { presenceGraceMs: GRACE_MS, processTtlMs: PROCESS_TTL_MS }, db);

type Presence = { userId: string; online: boolean; lastSeenAt: number | null };
const presenceOf = async (client: TestClient, userId: string): Promise<Presence> =>
  (await client.call<{ presence: Presence[] }>('get_presence', { userIds: [userId] })).presence[0]!;
const presenceEvents = (client: TestClient, userId: string) =>
  client.eventsNamed('presence').filter((e) => e.data.userId === userId).map((e) => e.data.online as boolean);

test('a user stays online while any process holds a connection, and goes offline once when the last one closes', async () => {
  const [a, b, c] = await cluster(3);
  const ann = track(await signUp(a!, 'Ann'));
  const ben = track(await signUp(b!, 'Ben'));
  await createRoom(ben.client, [ann.user.id], 'presence');
  // Asked on B, which holds no connection of Ann's: online, since her sign-in on A.
  const first = await presenceOf(ben.client, ann.user.id);
  expect(first.online).toBe(true);

  // A second tab on C, then the first one on A closes: past the grace she is still online.
  const tab = track(await joinSession(c!, ann.token));
  ann.client.close();
  await sleep(GRACE_MS * 3);
  expect(await presenceOf(ben.client, ann.user.id)).toEqual(first);
  expect(presenceEvents(ben.client, ann.user.id)).toEqual([]);

  // Her last connection closes: Ben hears "offline" once, and every process answers so.
  tab.close();
  await ben.client.waitForEvent('presence', (d) => d.userId === ann.user.id && d.online === false);
  const cat = track(await signUp(c!, 'Cat'));
  await createRoom(cat.client, [ann.user.id], 'asked on C');
  const gone = await presenceOf(cat.client, ann.user.id);
  expect(gone.online).toBe(false);
  expect(gone.lastSeenAt).toBeGreaterThanOrEqual(first.lastSeenAt!);
  await sleep(GRACE_MS);
  expect(presenceEvents(ben.client, ann.user.id)).toEqual([false]);

  // Back on B: online again, announced once, to Ben on the same process and Cat on C.
  track(await joinSession(b!, ann.token));
  await ben.client.waitForEvent('presence', (d) => d.userId === ann.user.id && d.online === true);
  await cat.client.waitForEvent('presence', (d) => d.userId === ann.user.id && d.online === true);
  expect((await presenceOf(cat.client, ann.user.id)).online).toBe(true);
});

test('a reload onto another process within the grace is not "offline, online"', async () => {
  const [a, b] = await cluster(2);
  const ann = track(await signUp(a!, 'Ann'));
  const ben = track(await signUp(b!, 'Ben'));
  await createRoom(ben.client, [ann.user.id]);
  ann.client.close();
  track(await joinSession(b!, ann.token));
  await sleep(GRACE_MS * 3);
  expect(presenceEvents(ben.client, ann.user.id)).toEqual([]);
  expect((await presenceOf(ben.client, ann.user.id)).online).toBe(true);
});

test('a process killed with SIGKILL stops counting: its users go offline for the others, unless held elsewhere', async () => {
  const db = await fixture.databases.create();
  const [a] = await cluster(1, db);
  const doomed = await fixture.spawn({ CHAT_DB: db, CHAT_REDIS: fixture.redis.url, CHAT_PROCESS_TTL: `${PROCESS_TTL_MS / 1000}s` });
  const ben = track(await signUp(a!, 'Ben'));
  const ann = track(await signUp(doomed as unknown as RunningServer, 'Ann'));
  const cat = track(await signUp(doomed as unknown as RunningServer, 'Cat'));
  track(await joinSession(a!, cat.token)); // Cat also has a tab on A
  await createRoom(ben.client, [ann.user.id, cat.user.id]);
  expect((await presenceOf(ben.client, ann.user.id)).online).toBe(true);

  await doomed.kill();
  // Nobody closed Ann's socket cleanly; the process's key expires and A claims it.
  await ben.client.waitFor((f) => f.type === 'event' && f.event === 'presence' && (f.data as Presence).userId === ann.user.id && !(f.data as Presence).online, PROCESS_TTL_MS * 8);
  expect((await presenceOf(ben.client, ann.user.id)).online).toBe(false);
  expect((await presenceOf(ben.client, cat.user.id)).online).toBe(true);
  expect(presenceEvents(ben.client, cat.user.id)).toEqual([]);
});

test('Redis restarted empty: each process writes its users again, and they stay online for every process', async () => {
  const [a, b] = await cluster(2);
  const ann = track(await signUp(a!, 'Ann'));
  const ben = track(await signUp(b!, 'Ben'));
  await createRoom(ben.client, [ann.user.id]);
  const before = await presenceOf(ben.client, ann.user.id);
  expect(before.online).toBe(true);

  await fixture.redis.restart(); // no persistence: every key is gone
  // Asked on B, which holds no connection of hers: online again once A has reconnected and
  // written her back, with the same "since", and nobody was told she went or came.
  await eventually(async () => expect(await presenceOf(ben.client, ann.user.id)).toEqual(before), 10_000);
  expect(presenceEvents(ben.client, ann.user.id)).toEqual([]);
});
