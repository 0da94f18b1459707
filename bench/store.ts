/**
 * The client store: one room's RoomMessages fed N messages the ways the network brings
 * them (live events, history pages, catch-up pages), shuffled and with duplicates; a live
 * message into the full room; opening the room offline from the IndexedDB cache; and the
 * time from `client.send()` to the message being in the store, with a real client. Run by
 * `npm run bench`, or alone: `npx tsx --tsconfig bench/tsconfig.json bench/store.ts`; either
 * rewrites the `store` section of docs/benchmarks.md.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import WebSocket from 'ws';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { createChatClient } from '@chat/sdk';
import type { Message } from '@chat/sdk/protocol';
import 'fake-indexeddb/auto'; // IndexedDB's classes as globals, which idb looks for
import { IDBFactory } from 'fake-indexeddb';
import { build } from 'esbuild';
import { RoomMessages, SHOWN_MESSAGES } from '../packages/chat-sdk/src/client/room-messages.js';
import { launchChromium, serveDir } from '../test/support/browser.js';
import { ROOM, type OpenTimes, messagesOf, openCachedRoom } from './store-open.js';
import { CACHE_MESSAGES_PER_ROOM } from '../packages/chat-sdk/src/storage/types.js';
import { fmt, machine, mib, ms, replaceSection, summary, table } from './lib/stats.js';
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
  /** Baseline, same run: one `push` onto a plain array of the room's size, in ms. */
  plainPushMs: number;
  /** Baseline, same run: one immutable append (`concat`) to an array of the room's size, as a snapshot of the whole room pays, in ms. */
  wholeCopyMs: number;
}

const LIVE_EVENTS = 500;

/** The mean of `runs` calls of `fn`, timed together (each is too short for the clock alone), in ms. */
function meanMs(runs: number, fn: (i: number) => void): number {
  const t = performance.now();
  for (let i = 0; i < runs; i++) fn(i);
  return (performance.now() - t) / runs;
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
  if (snapshot.messages.length !== Math.min(count, SHOWN_MESSAGES) || store.highestContiguousSeq !== count) throw new Error('the store lost or repeated messages');
  const heapBytes = heapUsed() - before;
  // Live messages after the ingest: merge each and read the snapshot, as a subscribed view does.
  const lives = Array.from({ length: LIVE_EVENTS }, (_, i): Message => ({ ...(messages[0] as Message), id: `live${i}`, clientId: `live${i}`, seq: count + 1 + i }));
  const held = store;
  const renderAfterEventMs = meanMs(LIVE_EVENTS, (i) => {
    held.mergeServer([lives[i] as Message]);
    held.getSnapshot();
  });
  if (held.getSnapshot().messages.at(-1)?.seq !== count + LIVE_EVENTS) throw new Error('a live message is not last');
  held.showOlder(count); // every message, once and in order, behind the window
  if (!held.getSnapshot().messages.every((m, i) => m.seq === i + 1)) throw new Error('the store lost or repeated messages');
  store = undefined;
  // The baselines, on an array as big as the room, with the same messages.
  const plain = messages.slice();
  const plainPushMs = meanMs(LIVE_EVENTS, (i) => plain.push(lives[i] as Message));
  let list: readonly Message[] = messages.slice();
  const wholeCopyMs = meanMs(LIVE_EVENTS, (i) => (list = list.concat(lives[i] as Message)));
  return {
    messages: count,
    merged,
    batches: batches.length,
    ms,
    opsPerSec: (merged / ms) * 1000,
    usPerMessage: (ms * 1000) / merged,
    heapBytes,
    renderAfterEventMs,
    plainPushMs,
    wholeCopyMs,
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

export interface OpenResult {
  where: string;
  messages: number;
  shown: number;
  records: number;
  /** Median, in ms. */
  openMs: number;
  /** Median of the baseline, in ms. */
  rawGetMs: number;
}

const medians = (where: string, t: OpenTimes): OpenResult => ({
  where,
  messages: t.messages,
  shown: t.shown,
  records: t.records,
  openMs: summary(t.opens).p50,
  rawGetMs: summary(t.gets).p50,
});

/** The same open in headless Chromium on its own IndexedDB: bench/store-page.ts bundled with esbuild, served on loopback. */
async function openInChromium(counts: readonly number[]): Promise<OpenTimes[]> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-store-bench-'));
  const site = await (async () => {
    await build({
      entryPoints: [fileURLToPath(new URL('./store-page.ts', import.meta.url))],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      outfile: join(dir, 'page.js'),
      logLevel: 'silent',
    });
    writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="page.js"></script>');
    return serveDir(dir);
  })();
  const browser = await launchChromium();
  try {
    const page = await browser.newPage();
    await page.goto(new URL('index.html', site.url).href);
    await page.waitForFunction(() => 'openCachedRoom' in globalThis);
    const out: OpenTimes[] = [];
    for (const count of counts) {
      out.push(await page.evaluate((c) => (globalThis as unknown as { openCachedRoom(count: number): Promise<OpenTimes> }).openCachedRoom(c), count));
    }
    return out;
  } finally {
    await browser.close();
    await site.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const x = (value: number) => `${fmt(value, 2)}x`;
const µs = (value: number) => `${fmt(value * 1000, value < 0.01 ? 2 : 1)} µs`;

export async function writeStoreSection(docPath: string, { quick, log }: { quick: boolean; log: (text: string) => void }): Promise<void> {
  const started = Date.now();
  const loadBefore = loadavg()[0] ?? 0;
  const sizes = quick ? [2_000, 10_000] : [10_000, 100_000];
  const ingests = sizes.map((count) => {
    log(`client store: ${fmt(count)} messages`);
    return ingest(count);
  });
  const opens: OpenResult[] = [];
  for (const count of sizes) {
    log(`client store: open a cached room of ${fmt(count)} (Node)`);
    opens.push(medians('Node, fake-indexeddb', await openCachedRoom(count, new IDBFactory())));
  }
  log('client store: open a cached room (Chromium)');
  for (const times of await openInChromium(sizes)) opens.push(medians('Chromium', times));
  log('client store: send() to the store');
  const send = await sendToStore(quick ? 200 : 1000);
  const loadAfter = loadavg()[0] ?? 0;
  const [small, large] = ingests as [IngestResult, IngestResult];
  const body = `
### Client store

\`bench/store.ts\` (run by \`npm run bench\`, or alone with \`npx tsx --tsconfig bench/tsconfig.json bench/store.ts\`);
${machine()}, load average ${fmt(loadBefore, 1)} at the start and ${fmt(loadAfter, 1)} at the end; ${fmt((Date.now() - started) / 1000)} s.

One room's \`RoomMessages\` fed N messages the ways the network delivers them: a third as
live events (one message each), a third as history pages of 50, a third as catch-up pages of
100, all batches shuffled (seeded) and one batch in five delivered twice. *merged* counts
duplicates; the time includes building the snapshot once at the end.

${table(
  ['messages', 'batches', 'merged', 'time', 'merged / s', 'per message', 'heap held'],
  ingests.map((r) => [fmt(r.messages), fmt(r.batches), fmt(r.merged), ms(r.ms, 0), fmt(r.opsPerSec), `${fmt(r.usPerMessage, 2)} µs`, mib(r.heapBytes)]),
)}

From ${fmt(small.messages)} to ${fmt(large.messages)} messages the cost per message grows ${x(large.usPerMessage / small.usPerMessage)}
(1.00x would be linear).

**A live message into the full room**: merged, then the next \`getSnapshot\` (what a subscribed
view pays per message), the mean of ${fmt(LIVE_EVENTS)} in a row. Baselines on an array as big as the room, in
the same run: a plain \`push\` (the floor: nothing immutable) and an immutable append
(\`concat\`, what a snapshot that copies the whole room pays, as this store did before).

${table(
  ['messages held', 'live message + snapshot', 'plain push', 'whole-room copy', 'ours vs whole-room copy'],
  ingests.map((r) => [fmt(r.messages), µs(r.renderAfterEventMs), µs(r.plainPushMs), µs(r.wholeCopyMs), x(r.renderAfterEventMs / r.wholeCopyMs)]),
)}

From ${fmt(small.messages)} to ${fmt(large.messages)} messages ours grows ${x(large.renderAfterEventMs / small.renderAfterEventMs)} (1.00x is flat), the
whole-room copy ${x(large.wholeCopyMs / small.wholeCopyMs)}. Live messages above the newest held one are appended to the
store's private sorted arrays, and a snapshot shows the newest ${fmt(SHOWN_MESSAGES)} sent messages (more as
the view loads older ones, from memory before the server), so the copy each snapshot needs
is a window, not the room. A copy of more than about 16,000 pointers lands in V8's
large-object space, a fresh mapping each time: that is what makes the whole-room copy cost
far more than its size on this machine.

**Opening a room from the IndexedDB cache**, offline, in Node (fake-indexeddb) and in headless
Chromium (its own IndexedDB, the same code bundled with esbuild; \`bench/store-open.ts\`): every message
of the room went through the cache the way the host caches what it delivers (pages of 100),
then \`RoomHistory.open\` into a new store until its snapshot shows the newest message, the
median of 25. The cache keeps a room's newest ${fmt(CACHE_MESSAGES_PER_ROOM)} in one record per (user, room), so
the open reads that one record, whatever the room's size; older pages come from the server
on scroll. Baseline in the same run and database: that record read with plain IndexedDB calls.

${table(
  ['IndexedDB', 'room size', 'records read', 'messages shown', 'open to last page', 'raw read of the record', 'vs raw read'],
  opens.map((r) => [r.where, fmt(r.messages), fmt(r.records), fmt(r.shown), ms(r.openMs, 2), ms(r.rawGetMs, 2), x(r.openMs / r.rawGetMs)]),
)}

\`client.send()\` to the message in the store, with a real client (memory storage, in-process
host, \`ws\`) against the reference server on loopback, ${fmt(send.sends)} sends:
\`send()\` alone p50 ${ms(send.send.p50, 3)}, p99 ${ms(send.send.p99, 3)}; \`send()\` and finding
it in \`messages(room).getSnapshot()\` p50 ${ms(send.sendToSnapshot.p50, 3)}, p99
${ms(send.sendToSnapshot.p99, 3)}. In the store synchronously, right after \`send()\` returned:
${send.synchronous ? 'every time' : '**not every time**'}. All ${fmt(send.sends)} were acknowledged after ${ms(send.allSentMs, 0)}.
`;
  writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'store', body));
  log('client store: wrote docs/benchmarks.md');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = Date.now();
  const log = (text: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}`);
  await writeStoreSection(fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url)), { quick: process.argv.includes('--quick'), log });
  process.exit(0);
}
