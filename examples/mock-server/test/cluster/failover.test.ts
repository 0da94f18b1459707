// What a client sees when part of the cluster fails. Real SDK clients (createChatClient, its
// outbox in fake-indexeddb) send through a front that stands in for the load balancer:
// - a server process (spawned, beside two in this process) killed with SIGKILL mid-traffic: its clients reconnect to another one,
//   and every message is stored once, in send order, seqs gapless;
// - PostgreSQL restarted under the servers: requests meanwhile fail INTERNAL (retryable),
//   nothing is half-written, and the outbox delivers once it is back.
import 'fake-indexeddb/auto';
import { IDBFactory } from 'fake-indexeddb';
import pg from 'pg';
import WebSocket from 'ws';
import { expect, test } from 'vitest';
import { type ChatClient, createChatClient } from '@chat/sdk';
import { PROTOCOL_VERSION } from '@chat/sdk/protocol';
import type { RunningServer } from '../../src/index.js';
import { eventually } from '../../../../test/support/browser.js';
import { TestClient, createRoom, signUp, sleep } from '../helpers.js';
import { clusterFixture } from './fixture.js';
import { Front } from './front.js';

const fixture = clusterFixture('chat_failover');

function sdkClient(url: string): ChatClient {
  const client = createChatClient({
    url,
    WebSocket: WebSocket as never,
    indexedDB: new IDBFactory(),
    backoff: (attempt) => Math.min(50 * attempt, 300),
    requestTimeoutMs: 3000,
  });
  fixture.cleanup(() => client.close());
  return client;
}

type Stored = { seq: number; senderId: string; clientId: string; text: string };

/** The room's whole history, read straight from a server. */
async function history(reader: TestClient, roomId: string): Promise<Stored[]> {
  const all: Stored[] = [];
  for (;;) {
    const page = await reader.call<{ messages: Stored[] }>('get_messages', { roomId, after: all.at(-1)?.seq ?? 0, limit: 100 });
    all.push(...page.messages);
    if (page.messages.length < 100) return all;
  }
}

/** Every text sent is stored exactly once, each sender's in send order, seqs 1..n. */
function expectStoredOnceInOrder(stored: Stored[], sent: Map<string, string[]>): void {
  expect(stored.map((m) => m.seq)).toEqual(stored.map((_, i) => i + 1));
  expect(new Set(stored.map((m) => `${m.senderId}/${m.clientId}`)).size).toBe(stored.length);
  for (const [senderId, texts] of sent) {
    expect(stored.filter((m) => m.senderId === senderId).map((m) => m.text)).toEqual(texts);
  }
}

test('a process killed with SIGKILL mid-traffic: its clients reconnect to another, every message is stored once, in order, seqs gapless', async () => {
  // Two servers in this process (the first migrates the new database) and, in a process of
  // its own so that it can be killed with SIGKILL, the one that dies.
  const db = await fixture.databases.create();
  const [b, c] = await fixture.cluster(2, { processTtlMs: 2000 }, db);
  const doomed = await fixture.spawn({ CHAT_DB: db, CHAT_REDIS: fixture.redis.url, CHAT_PROCESS_TTL: '2s' });
  const processes = [doomed, b!, c!];
  const front = await Front.start(processes.map((p) => p.port));
  fixture.cleanup(() => front.close());

  // Accounts and the room, made directly on the last process (which survives).
  const setup = await Promise.all(['Ann', 'Ben', 'Cat'].map((name) => signUp(c!, name).then(fixture.track)));
  const room = await createRoom(setup[0]!.client, [setup[1]!.user.id, setup[2]!.user.id], 'failover');

  // One SDK client each, through the front: round robin puts one on each process.
  const clients = setup.map(() => sdkClient(front.wsUrl));
  for (const [i, client] of clients.entries()) {
    await client.login({ email: setup[i]!.user.email });
    await eventually(() => expect(client.messages(room.id).getSnapshot().loading).toBe(false), 10_000);
  }

  const sent = new Map<string, string[]>(setup.map((s) => [s.user.id, []]));
  const perClient = 20;
  for (let k = 0; k < perClient; k++) {
    clients.forEach((client, i) => {
      const text = `${setup[i]!.user.name} ${k}`;
      client.send(room.id, { text });
      sent.get(setup[i]!.user.id)!.push(text);
    });
    if (k === perClient / 2) await doomed.kill(); // mid-traffic, no goodbye
    await sleep(20);
  }

  // Every client settles: all 60 messages, none left unsent, in the server's order.
  const total = perClient * clients.length;
  for (const client of clients) {
    await eventually(() => {
      const { messages } = client.messages(room.id).getSnapshot();
      expect(messages.filter((m) => m.status === 'sent')).toHaveLength(total);
    }, 30_000);
  }
  const reader = fixture.track(await TestClient.open(b!.wsUrl));
  await reader.call('create_connection', { protocolVersion: PROTOCOL_VERSION, token: setup[0]!.token });
  const stored = await history(reader, room.id);
  expect(stored).toHaveLength(total);
  expectStoredOnceInOrder(stored, sent);
  for (const client of clients) {
    expect(client.messages(room.id).getSnapshot().messages.map((m) => m.seq)).toEqual(stored.map((m) => m.seq));
  }
}, 120_000);

test('PostgreSQL restarted under the servers: requests fail INTERNAL and retryable meanwhile, nothing is half-written, the outbox delivers after', async () => {
  const db = await fixture.databases.create();
  const [a, b] = (await fixture.cluster(2, {}, db)) as [RunningServer, RunningServer];
  const ann = fixture.track(await signUp(a, 'Ann'));
  const ben = fixture.track(await signUp(b, 'Ben'));
  const room = await createRoom(ann.client, [ben.user.id], 'outage');
  const client = sdkClient(b.wsUrl);
  await client.login({ email: ben.user.email });
  await eventually(() => expect(client.messages(room.id).getSnapshot().loading).toBe(false), 10_000);

  const sent = new Map<string, string[]>([[ben.user.id, []], [ann.user.id, []]]);
  const send = (text: string) => {
    client.send(room.id, { text });
    sent.get(ben.user.id)!.push(text);
  };
  send('before');
  await eventually(() => expect(client.messages(room.id).getSnapshot().messages[0]?.status).toBe('sent'), 10_000);

  // Down: PostgreSQL stops (fast shutdown: in-flight transactions are rolled back).
  const { postgres } = fixture.databases;
  const restarting = postgres.restart();
  let failure: { code: string; retryable?: boolean } | undefined;
  for (let k = 0; k < 200 && !failure; k++) {
    send(`during ${k}`);
    const reply = await ann.client.request('create_message', { roomId: room.id, clientId: `direct-${k}`, text: `direct ${k}` });
    if (reply.ok) sent.get(ann.user.id)!.push(`direct ${k}`);
    else failure = reply.error as { code: string; retryable?: boolean };
    await sleep(5);
  }
  expect(failure).toMatchObject({ code: 'INTERNAL', retryable: true });
  await restarting;

  // Back: the outbox delivers everything the SDK client was asked to send, once.
  send('after');
  const wanted = sent.get(ben.user.id)!.length + sent.get(ann.user.id)!.length;
  await eventually(() => {
    const { messages } = client.messages(room.id).getSnapshot();
    expect(messages.filter((m) => m.status === 'sent')).toHaveLength(wanted);
  }, 30_000);
  const stored = await history(ann.client, room.id);
  expectStoredOnceInOrder(stored, sent);

  // Nothing half-written: the room's counter is its last message's seq, no message without its bump.
  const direct = new pg.Client({ connectionString: db });
  await direct.connect();
  try {
    const { rows } = await direct.query<{ last_seq: string; count: string; max: string }>(
      'SELECT r.last_seq, (SELECT count(*) FROM messages m WHERE m.room_id = r.id) AS count, (SELECT max(seq) FROM messages m WHERE m.room_id = r.id) AS max FROM rooms r WHERE r.id = $1',
      [room.id],
    );
    expect(Number(rows[0]!.last_seq)).toBe(stored.length);
    expect(Number(rows[0]!.count)).toBe(stored.length);
    expect(Number(rows[0]!.max)).toBe(stored.length);
  } finally {
    await direct.end();
  }
}, 90_000);
