/**
 * Reconnect storm: N SDK clients (memory storage, in-process host, `ws`) connected to a
 * server in a child process; the server closes and starts again on the same SQLite file
 * and port, and a writer posts one message into every room as soon as it is back. Measured:
 * the time until every client is open again and holds that message (caught up), and the
 * connection attempts per 100 ms the server had to absorb, for the SDK's default backoff,
 * the full jitter it had before, and a backoff without jitter, in the same run. Attempts
 * are counted twice: as made (new sockets, which one process opens no faster than its event
 * loop allows, so a lockstep crowd shows flatter than it is) and as due (the moment each
 * client's backoff set, what as many separate devices would send).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { type ChatClient, createChatClient } from '@chat/sdk';
import type { Backoff } from '@chat/sdk';
import { LOAD_LIMITS, LOAD_RATE_LIMIT } from './fanout.js';
import { ServerProcess } from './lib/server-process.js';
import { fmt, machine, ms, replaceSection, table } from './lib/stats.js';
import { lineChart } from '../scripts/svg-chart.mjs';
import { Wire, pool, sleep, waitFor } from './lib/wire.js';

export interface StormResult {
  label: string;
  clients: number;
  downtimeMs: number;
  /** From the server's close to every client open again and holding its room's newest message. */
  recoveredMs: number;
  /** All clients recovered within the time limit. */
  complete: boolean;
  attempts: number;
  /** Most connection attempts (new sockets) within one 100 ms bucket after the close. */
  peakPer100ms: number;
  /** Most retries due (by each client's backoff) within one 100 ms bucket after the close. */
  peakDuePer100ms: number;
  /** The last new socket a client opened, ms after the close: what the backoff decides; the rest is catching up. */
  lastAttemptMs: number;
  /** The server was down (close to listening again) this long. */
  downMs: number;
  /** Connection attempts per 100 ms after the close: [ms since the close, attempts]. */
  attemptsOverTime: Array<[number, number]>;
}

/** Ceilings of 500 ms doubling to 30 s, without randomness: every client retries in lockstep. */
export const noJitter: Backoff = (attempt) => Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));

/** The SDK's default before 0.2: a wait anywhere below that doubling ceiling (full jitter). */
export const fullJitter: Backoff = (attempt) => Math.floor(Math.random() * noJitter(attempt));

/**
 * `downtimeMs`: how long the server stays down between close and start (0: at once; a real
 * deploy takes a while, and then the clients' retries pile up).
 */
export async function storm(
  label: string,
  backoff: Backoff | undefined,
  { clients = 1000, roomSize = 10, downtimeMs = 0, limitMs = 120_000, restartHintMs = 0 } = {},
): Promise<StormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-storm-'));
  const db = join(dir, 'chat.sqlite');
  const server = await ServerProcess.spawn();
  const sdkClients: ChatClient[] = [];
  const writers: Wire[] = [];
  try {
    // Raised only for the writer, which creates and posts into every room on one connection;
    // a reconnecting client makes a handful of requests, far below the default.
    const options = { db, storage: 'sqlite' as const, rateLimit: LOAD_RATE_LIMIT, limits: LOAD_LIMITS, restartRetryAfterMs: restartHintMs };
    const { wsUrl, port } = await server.start('chat', options);
    const tag = Date.now().toString(36);
    const emails = Array.from({ length: clients }, (_, i) => `s${i}-${tag}@bench.test`);
    const users = await pool(emails, 50, async (email) => {
      const { wire, user } = await Wire.user(wsUrl, email);
      wire.close();
      return user;
    });
    // One writer belongs to every room, so it can post into each after the restart.
    const { wire: setupWriter, user: writer } = await Wire.user(wsUrl, `writer-${tag}@bench.test`);
    const rooms = Math.ceil(clients / roomSize);
    const roomIds: string[] = [];
    for (let r = 0; r < rooms; r++) {
      const memberIds = users.filter((_, i) => i % rooms === r).map((u) => u.id);
      const { room } = await setupWriter.call('create_room', { memberIds });
      roomIds.push(room.id);
    }
    setupWriter.close();

    const attemptsAt: number[] = [];
    class CountingWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        attemptsAt.push(performance.now());
      }
    }
    await pool(emails, 50, async (email, i) => {
      const client = createChatClient({
        url: wsUrl,
        WebSocket: CountingWebSocket as never,
        storage: 'memory',
        ...(backoff ? { backoff } : {}),
      });
      sdkClients.push(client);
      await client.login({ email });
      const store = client.messages(roomIds[i % rooms] as string);
      await waitFor(() => !store.getSnapshot().loading, 30_000);
    });
    const roomOf = (i: number) => roomIds[i % rooms] as string;
    const caughtUp = (lastSeq: Map<string, number>) =>
      sdkClients.every(
        (c, i) => c.connection.getSnapshot().status === 'open' && c.messages(roomOf(i)).getSnapshot().messages.length >= (lastSeq.get(roomOf(i)) ?? 1),
      );

    // When each client's backoff says its next try is due (Date.now() based, as the SDK's clock).
    const dueAt: number[] = [];
    for (const client of sdkClients) {
      let last: number | undefined;
      client.connection.subscribe(() => {
        const { status, nextRetryAt } = client.connection.getSnapshot();
        if (status === 'reconnecting' && nextRetryAt !== undefined && nextRetryAt !== last) dueAt.push((last = nextRetryAt));
      });
    }

    const t0 = performance.now();
    const t0Date = Date.now();
    const before = attemptsAt.length;
    await server.close();
    await sleep(downtimeMs);
    await server.start('chat', { ...options, port });
    const downMs = performance.now() - t0;
    // The writer gets in at once (no backoff) and posts one message per room: the clients
    // that come back later must catch it up, the ones already back get it live.
    const { wire } = await Wire.user(wsUrl, `writer-${tag}@bench.test`, false);
    writers.push(wire);
    const lastSeq = new Map<string, number>();
    for (const roomId of roomIds) {
      const { message } = await wire.call('create_message', { roomId, clientId: `after-restart-${roomId}`, text: 'after the restart' });
      lastSeq.set(roomId, message.seq);
    }
    const complete = await waitFor(() => caughtUp(lastSeq), limitMs, 50);
    const recoveredMs = performance.now() - t0;

    const sinceClose = attemptsAt.slice(before).map((at) => at - t0);
    const buckets = per100ms(sinceClose);
    const dueBuckets = per100ms(dueAt.map((at) => at - t0Date));
    return {
      label,
      clients,
      downtimeMs,
      recoveredMs,
      complete,
      attempts: attemptsAt.length - before,
      peakPer100ms: Math.max(0, ...buckets.values()),
      peakDuePer100ms: Math.max(0, ...dueBuckets.values()),
      lastAttemptMs: Math.max(0, ...sinceClose),
      downMs,
      attemptsOverTime: Array.from({ length: Math.ceil(recoveredMs / 100) + 1 }, (_, b) => [b * 100, buckets.get(b) ?? 0] as [number, number]),
    };
  } finally {
    for (const c of sdkClients) c.close();
    for (const w of writers) w.close();
    await server.kill();
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** How many of `times` (ms after the close) fall in each 100 ms. */
function per100ms(times: number[]): Map<number, number> {
  const buckets = new Map<number, number>();
  for (const at of times) buckets.set(Math.floor(at / 100), (buckets.get(Math.floor(at / 100)) ?? 0) + 1);
  return buckets;
}

/** The server's default hint (it does not know how long the outage will be). */
const SERVER_HINT_MS = 1000;

const BACKOFFS: Array<{ label: string; backoff: Backoff | undefined; restartHintMs: number }> = [
  { label: 'SDK default + server hint', backoff: undefined, restartHintMs: SERVER_HINT_MS },
  { label: 'SDK default, no hint', backoff: undefined, restartHintMs: 0 },
  { label: 'full jitter (0.1 default)', backoff: fullJitter, restartHintMs: 0 },
  { label: 'no jitter', backoff: noJitter, restartHintMs: 0 },
];

const seconds = (outageMs: number) => `${fmt(outageMs / 1000, outageMs < 1000 ? 1 : 0)}s`;

/** Runs every backoff against every outage and writes the `storm` section of docs/benchmarks.md. */
export async function writeStormSection(docPath: string, { quick, log }: { quick: boolean; log: (text: string) => void }): Promise<void> {
  const clients = quick ? 200 : 1000;
  const outages = quick ? [200, 2000] : [200, 2000, 10_000];
  const results: StormResult[] = [];
  const loadBefore = loadavg()[0] ?? 0;
  for (const downtimeMs of outages) {
    for (const { label, backoff, restartHintMs } of BACKOFFS) {
      log(`reconnect storm: ${clients} clients, ${downtimeMs} ms down, ${label}`);
      const result = await storm(label, backoff, { clients, downtimeMs, restartHintMs });
      log(`  recovered in ${ms(result.recoveredMs, 0)} (down ${ms(result.downMs, 0)}), peak ${result.peakPer100ms} made, ${result.peakDuePer100ms} due / 100 ms`);
      results.push(result);
    }
  }
  const loadAfter = loadavg()[0] ?? 0;
  const x = (value: number) => `${fmt(value, 2)}x`;
  const find = (downtimeMs: number, label: string) => results.find((r) => r.downtimeMs === downtimeMs && r.label === label) as StormResult;
  for (const downtimeMs of outages) {
    writeFileSync(
      new URL(`images/storm-${seconds(downtimeMs)}.svg`, pathToFileURL(docPath)),
      lineChart({
        title: `Reconnect storm: ${fmt(clients)} clients, server down ${fmt(downtimeMs / 1000, downtimeMs < 1000 ? 1 : 0)} s`,
        xLabel: 'ms after the server closed',
        yLabel: 'new sockets per 100 ms',
        series: results.filter((r) => r.downtimeMs === downtimeMs).map((r) => ({ label: r.label.replace(/ \(.*\)$/, ''), points: r.attemptsOverTime })),
      }),
    );
  }
  const body = `
### Reconnect storm

${fmt(clients)} SDK clients (memory storage, \`ws\`), each in a room of 10 with its room's
messages open, connected to the reference server in a child process (SQLite file). The server
closes (1001 to every socket), stays down for the time shown, and starts again on the same
file and port; a writer then posts one message into every room. *Recovered*: from the close
until every client is open again and holds that message (the ones back before it got it live,
the rest caught it up); *after listening*: the part of that after the server took connections
again; *last socket*: when the last client opened its last socket, which is as far as the
backoff decides (the rest of *recovered* is signing in and catching up). *Attempts*: new sockets the clients opened after
the close. *Peak made*: the most new sockets in one 100 ms; *peak due*: the most retries the
clients' backoffs set for one 100 ms. The two differ because all ${fmt(clients)} clients live in
one process, which opens sockets no faster than its event loop allows: a lockstep crowd that
would hit the server within a millisecond from as many devices comes out of one process over
a few hundred, so *made* flatters no jitter (and a busy event loop bunches anyone's timers);
*due* is what the policy itself asks of the server. The backoffs, all in this one run
(\`npm run bench:storm\` runs this alone; ${machine()}, load average ${fmt(loadBefore, 1)} at the
start and ${fmt(loadAfter, 1)} at the end: on a busy machine the server's own restart takes longer
than the outage asked for, see *server down*, and catching up takes longer too):

- *SDK default + server hint*: the server's 1001 close says
  \`retryWindowMs=W; retryAfterMs=1000\` (the hint is its default,
  \`CHAT_RESTART_RETRY_AFTER_MS\`: it cannot know how long the outage will be; the window is
  one second per 1,000 connections it closed, at least the hint, so 1 s here). Each client's
  first retry lands at a random moment in [1 s, 1 s + W]; then the default backoff keeps that
  spread (protocol section 9, \`scheduleReconnect\` in \`host/connection.ts\`);
- *SDK default, no hint*: the first retry at a random moment in the first second (2 × 500
  ms), then every client waits the same period, 1 s growing 1.25× per attempt to at most 30 s,
  plus up to a fifth of it (\`exponentialBackoff\` in \`host/backoff.ts\`): the crowd keeps the
  spread of its first retries and is back within one period of the server;
- *full jitter*: the default of 0.1, a wait anywhere below 500 ms doubling to 30 s;
- *no jitter*: that doubling ceiling itself, every client in lockstep.

${outages.map((downtimeMs) => `![New sockets per 100 ms after the close, server down ${seconds(downtimeMs)}, one line per backoff](images/storm-${seconds(downtimeMs)}.svg)`).join('\n')}

${table(
  ['server down', 'backoff', 'recovered', 'after listening', 'last socket', 'attempts', 'peak made / 100 ms', 'vs no jitter', 'peak due / 100 ms', 'vs no jitter'],
  results.map((s) => {
    const lockstep = find(s.downtimeMs, 'no jitter');
    return [
      ms(s.downMs, 0),
      s.label,
      s.complete ? ms(s.recoveredMs, 0) : `not within the limit (${ms(s.recoveredMs, 0)})`,
      ms(s.recoveredMs - s.downMs, 0),
      ms(s.lastAttemptMs, 0),
      fmt(s.attempts),
      fmt(s.peakPer100ms),
      x(s.peakPer100ms / lockstep.peakPer100ms),
      fmt(s.peakDuePer100ms),
      x(s.peakDuePer100ms / lockstep.peakDuePer100ms),
    ];
  }),
)}

${outages
  .map((downtimeMs) => {
    const [hinted, ours, full, lockstep] = BACKOFFS.map(({ label }) => find(downtimeMs, label)) as [StormResult, StormResult, StormResult, StormResult];
    const peaks = (r: StormResult) => `peak ${x(r.peakPer100ms / lockstep.peakPer100ms)} made, ${x(r.peakDuePer100ms / lockstep.peakDuePer100ms)} due`;
    return `- Outage of ${ms(downtimeMs, 0)} (server down ${ms(hinted.downMs, 0)} to ${ms(lockstep.downMs, 0)} as measured): with the hint all were back after ${ms(hinted.recoveredMs, 0)}, ${peaks(hinted)} of no jitter's; the default alone ${ms(ours.recoveredMs, 0)}, ${peaks(ours)} (full jitter ${ms(full.recoveredMs, 0)}, ${peaks(full)}; no jitter ${ms(lockstep.recoveredMs, 0)}).`;
  })
  .join('\n')}

Full jitter keeps the peak low but has a long tail: after a few failed attempts a client can
draw a wait near a far ceiling and stay away long after the server is back. The default
spreads the first retry, which is where a crowd cut at one moment would otherwise land
together, and from then on draws no new spread: every client waits the same period, plus a
little, so the crowd keeps arriving at about N per window and all are back within one period
of the server. A server that says when it will be back, and over how long a window, lets the
crowd skip the retries into a closed port and sizes the spread to the crowd.
What it gives up: clients whose failures land together (a stalled event loop here, or a
server that refuses a batch at one moment) are spread again only by that fifth per round,
which is why *SDK default, no hint* can show a higher peak than its first window alone
would give.
`;
  writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'storm', body));
  log('wrote the storm section of docs/benchmarks.md');
}
