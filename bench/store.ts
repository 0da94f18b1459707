/**
 * The client store: one room's RoomMessages fed N messages the ways the network brings
 * them (live events, history pages, catch-up pages), shuffled and with duplicates; and the
 * time from `client.send()` to the message being in the store, with a real client.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { createChatClient } from '@chat/sdk';
import type { Message } from '@chat/sdk/protocol';
import { RoomMessages } from '../packages/chat-sdk/src/client/room-messages.js';
import { summary } from './lib/stats.js';
import { Wire, sleep, waitFor } from './lib/wire.js';

setFlagsFromString('--expose-gc');
/** A gc() that works without --expose-gc on the command line. */
const gc = runInNewContext('gc') as () => void;

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A seeded generator, so every run shuffles the same way. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ROOM = 'room-bench';

function messagesOf(count: number): Message[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `m${i + 1}`,
    roomId: ROOM,
    senderId: `u${i % 10}`,
    clientId: `c${i + 1}`,
    seq: i + 1,
    text: `message number ${i + 1} with a little text in it`,
    image: null,
    createdAt: 1_700_000_000_000 + i * 1000,
  }));
}

/**
 * Cuts the messages into batches as the network delivers them: a third as single events,
 * a third as history pages of 50, a third as catch-up pages of 100; shuffled; then one
 * batch in five delivered again (a duplicate: an event repeated by a catch-up page).
 */
function batchesOf(messages: Message[], rand: () => number): Message[][] {
  const batches: Message[][] = [];
  const third = Math.floor(messages.length / 3);
  for (let i = 0; i < third; i++) batches.push([messages[i] as Message]);
  for (let i = third; i < 2 * third; i += 50) batches.push(messages.slice(i, Math.min(i + 50, 2 * third)));
  for (let i = 2 * third; i < messages.length; i += 100) batches.push(messages.slice(i, i + 100));
  const withDuplicates = [...batches];
  for (const batch of batches) if (rand() < 0.2) withDuplicates.push(batch);
  for (let i = withDuplicates.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [withDuplicates[i], withDuplicates[j]] = [withDuplicates[j] as Message[], withDuplicates[i] as Message[]];
  }
  return withDuplicates;
}

export interface IngestResult {
  messages: number;
  /** Messages merged, duplicates included. */
  merged: number;
  batches: number;
  ms: number;
  opsPerSec: number;
  /** Per message merged, in microseconds. */
  usPerMessage: number;
  /** Heap the store holds after the ingest (after gc), in bytes. */
  heapBytes: number;
  /** One live event's cost, merge and the next getSnapshot (the list rebuild a render pays), in ms. */
  renderAfterEventMs: number;
}

export function ingest(count: number): IngestResult {
  const messages = messagesOf(count);
  const batches = batchesOf(messages, random(count));
  const merged = batches.reduce((n, b) => n + b.length, 0);
  const before = heapUsed();
  let store: RoomMessages | undefined = new RoomMessages(ROOM);
  const started = performance.now();
  for (const batch of batches) store.mergeServer(batch);
  const snapshot = store.getSnapshot();
  const ms = performance.now() - started;
  if (snapshot.messages.length !== count || store.highestContiguousSeq !== count) throw new Error('the store lost or repeated messages');
  const heapBytes = heapUsed() - before;
  // A live message after the ingest: merge it and read the snapshot, as a subscribed view does.
  const live: Message = { ...(messages[count - 1] as Message), id: 'live', clientId: 'live', seq: count + 1 };
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    store.mergeServer([{ ...live, clientId: `live${i}`, seq: count + 1 + i }]);
    store.getSnapshot();
    times.push(performance.now() - t);
  }
  store = undefined;
  return {
    messages: count,
    merged,
    batches: batches.length,
    ms,
    opsPerSec: (merged / ms) * 1000,
    usPerMessage: (ms * 1000) / merged,
    heapBytes,
    renderAfterEventMs: summary(times).p50,
  };
}

export interface SendResult {
  sends: number;
  /** `client.send()` alone. */
  send: { p50: number; p99: number };
  /** `client.send()` then reading it back from the room's snapshot. */
  sendToSnapshot: { p50: number; p99: number };
  /** Every send was in the snapshot right after `send()` returned. */
  synchronous: boolean;
  /** How long until all were acknowledged (sent), for scale. */
  allSentMs: number;
}

/** A real client (memory storage, in-process host) against a real server on loopback. */
export async function sendToStore(sends = 1000): Promise<SendResult> {
  const server = await startServer({ ...TEST_SERVER_OPTIONS, rateLimit: { perSecond: 100_000, burst: 100_000 } });
  const client = createChatClient({ url: server.wsUrl, WebSocket: WebSocket as never, storage: 'memory' });
  const other = await Wire.open(server.wsUrl);
  try {
    const { user: peer } = await other.call('create_user', { email: 'peer@bench.test' });
    await client.signUp({ email: 'sender@bench.test' });
    const room = await client.createRoom({ memberIds: [peer.id] });
    await waitFor(() => client.rooms.getSnapshot().some((r) => r.id === room.id), 5000);
    const store = client.messages(room.id);
    await waitFor(() => !store.getSnapshot().loading, 5000);
    const sendTimes: number[] = [];
    const totalTimes: number[] = [];
    let synchronous = true;
    const started = performance.now();
    for (let i = 0; i < sends; i++) {
      const t0 = performance.now();
      const message = client.send(room.id, { text: `hello ${i}` });
      const t1 = performance.now();
      const held = store.getSnapshot().messages.some((m) => m.clientId === message.clientId);
      const t2 = performance.now();
      synchronous &&= held;
      sendTimes.push(t1 - t0);
      totalTimes.push(t2 - t0);
      if (i % 50 === 49) await sleep(1);
    }
    await waitFor(() => store.getSnapshot().messages.filter((m) => m.status === 'sent').length === sends, 60_000);
    const allSentMs = performance.now() - started;
    const s = summary(sendTimes);
    const t = summary(totalTimes);
    return { sends, send: { p50: s.p50, p99: s.p99 }, sendToSnapshot: { p50: t.p50, p99: t.p99 }, synchronous, allSentMs };
  } finally {
    client.close();
    other.close();
    await server.close();
  }
}
