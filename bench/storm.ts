/**
 * Reconnect storm: N SDK clients (memory storage, in-process host, `ws`) connected to a
 * server in a child process; the server closes and starts again on the same SQLite file
 * and port, and a writer posts one message into every room as soon as it is back. Measured:
 * the time until every client is open again and holds that message (caught up), and the
 * connection attempts per 100 ms the server had to absorb, with the SDK's default backoff
 * (full jitter) and with a backoff without jitter, in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { type ChatClient, createChatClient } from '@chat/sdk';
import type { Backoff } from '@chat/sdk';
import { LOAD_RATE_LIMIT } from './fanout.js';
import { ServerProcess } from './lib/server-process.js';
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
  /** The server was down (close to listening again) this long. */
  downMs: number;
}

/** The same ceiling as the SDK's default (500 ms doubling to 30 s), without the randomness. */
export const noJitter: Backoff = (attempt) => Math.min(30_000, 500 * 2 ** Math.max(0, attempt - 1));

/**
 * `downtimeMs`: how long the server stays down between close and start (0: at once; a real
 * deploy takes a while, and then the clients' retries pile up).
 */
export async function storm(
  label: string,
  backoff: Backoff | undefined,
  { clients = 1000, roomSize = 10, downtimeMs = 0, limitMs = 120_000 } = {},
): Promise<StormResult> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-storm-'));
  const db = join(dir, 'chat.sqlite');
  const server = await ServerProcess.spawn();
  const sdkClients: ChatClient[] = [];
  const writers: Wire[] = [];
  try {
    // Raised only for the writer, which creates and posts into every room on one connection;
    // a reconnecting client makes a handful of requests, far below the default.
    const options = { db, storage: 'sqlite' as const, rateLimit: LOAD_RATE_LIMIT };
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

    const t0 = performance.now();
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

    const buckets = new Map<number, number>();
    for (const at of attemptsAt.slice(before)) {
      const bucket = Math.floor((at - t0) / 100);
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + 1);
    }
    return {
      label,
      clients,
      downtimeMs,
      recoveredMs,
      complete,
      attempts: attemptsAt.length - before,
      peakPer100ms: Math.max(0, ...buckets.values()),
      downMs,
    };
  } finally {
    for (const c of sdkClients) c.close();
    for (const w of writers) w.close();
    await server.kill();
    await sleep(100);
    rmSync(dir, { recursive: true, force: true });
  }
}
