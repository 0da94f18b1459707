/**
 * Delivery under chaos: SDK clients send into shared rooms through a proxy that cuts,
 * delays and splits their connections, while the server (SQLite on a file) restarts.
 * Then the guarantees are checked against the server's history read by a fresh connection.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { type ChatClient, createChatClient, exponentialBackoff } from '@chat/sdk';
import { ServerProcess } from '../lib/server-process.js';
import { Wire, sleep, waitFor } from '../lib/wire.js';
import { ChaosProxy, type ProxyOptions, type ProxyStats } from './proxy.js';

export interface DeliveryOptions {
  clients: number;
  rooms: number;
  messagesPerClient: number;
  /** Server restarts, spread evenly over the sending. */
  restarts: number;
  /** 'close': close() and start again in this process; 'kill': SIGKILL a child process and start a new one. */
  restartMode: 'close' | 'kill';
  /** Pause between one client's sends (ms). */
  sendEveryMs: number;
  proxy: ProxyOptions;
  /** How long the network keeps misbehaving after the last send, before it calms down. */
  chaosAfterSendsMs: number;
  /** Longest wait for everything to settle once the network is calm. */
  settleMs: number;
}

export interface DeliveryResult {
  options: DeliveryOptions;
  sent: number;
  stored: number;
  proxy: ProxyStats;
  restarts: number;
  durationMs: number;
  /** Each broken guarantee, in words; empty when all held. */
  violations: string[];
}

/** A server on a fixed SQLite file that can be restarted on the same port, in process or as a child. */
interface Restartable {
  wsUrl: string;
  port: number;
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function restartable(mode: DeliveryOptions['restartMode'], db: string): Promise<Restartable> {
  if (mode === 'close') {
    let server: RunningServer = await startServer({ db, ...TEST_SERVER_OPTIONS });
    return {
      wsUrl: server.wsUrl,
      port: server.port,
      async restart() {
        await server.close();
        server = await startServer({ db, port: server.port, ...TEST_SERVER_OPTIONS });
      },
      stop: () => server.close(),
    };
  }
  let child = await ServerProcess.spawn();
  const { wsUrl, port } = await child.start('chat', { db });
  return {
    wsUrl,
    port,
    async restart() {
      await child.kill();
      child = await ServerProcess.spawn();
      await child.start('chat', { db, port });
    },
    stop: () => child.kill(),
  };
}

export async function runDelivery(options: DeliveryOptions): Promise<DeliveryResult> {
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'chat-chaos-'));
  const server = await restartable(options.restartMode, join(dir, 'chat.sqlite'));
  const proxy = await ChaosProxy.start(server.port, options.proxy);
  const clients: ChatClient[] = [];
  const violations: string[] = [];
  let restarts = 0;
  let sent = 0;
  let stored = 0;
  try {
    // Accounts and rooms are made directly, with the network calm; the chaos is for delivery.
    proxy.setChaos(false);
    const tag = Date.now().toString(36);
    const emails = Array.from({ length: options.clients }, (_, i) => `chaos${i}-${tag}@chaos.test`);
    const setup = await Promise.all(emails.map((email) => Wire.user(server.wsUrl, email)));
    const ids = setup.map((s) => s.user.id);
    const roomIds: string[] = [];
    for (let r = 0; r < options.rooms; r++) {
      const { room } = await (setup[0] as { wire: Wire }).wire.call('create_room', { name: `chaos ${r}`, memberIds: ids.slice(1) });
      roomIds.push(room.id);
    }
    for (const { wire } of setup) wire.close();

    for (const email of emails) {
      const client = createChatClient({
        url: proxy.wsUrl,
        WebSocket: WebSocket as never,
        storage: 'memory',
        backoff: exponentialBackoff({ baseMs: 50, maxMs: 1000 }),
        requestTimeoutMs: 3000,
        pingIntervalMs: 2000,
      });
      clients.push(client);
      await client.login({ email });
      for (const roomId of roomIds) {
        const store = client.messages(roomId);
        await waitFor(() => !store.getSnapshot().loading, 10_000);
      }
    }
    proxy.setChaos(true);

    // Every client sends its share round-robin over the rooms; the server restarts on the way.
    const texts = new Map<string, string[]>(roomIds.map((id) => [id, []]));
    const total = options.clients * options.messagesPerClient;
    const restartAt = new Set(Array.from({ length: options.restarts }, (_, k) => Math.floor(((k + 1) * total) / (options.restarts + 1))));
    for (let i = 0; i < options.messagesPerClient; i++) {
      for (let c = 0; c < options.clients; c++) {
        const roomId = roomIds[(i + c) % roomIds.length] as string;
        const text = `client ${c} message ${i}`;
        (clients[c] as ChatClient).send(roomId, { text });
        texts.get(roomId)!.push(text);
        sent++;
        if (restartAt.has(sent)) {
          await server.restart();
          restarts++;
        }
      }
      await sleep(options.sendEveryMs);
    }
    await sleep(options.chaosAfterSendsMs);
    proxy.setChaos(false);

    // Settled: every client holds every message of every room, none unsent.
    const expected = (roomId: string) => texts.get(roomId)!.length;
    const settled = await waitFor(
      () =>
        clients.every((client) =>
          roomIds.every((roomId) => {
            const { messages } = client.messages(roomId).getSnapshot();
            return messages.length >= expected(roomId) && messages.every((m) => m.status === 'sent');
          }),
        ),
      options.settleMs,
      100,
    );
    if (!settled) violations.push(`not settled within ${options.settleMs} ms of a calm network`);

    // The server's history, read by a fresh connection straight to the server.
    const { wire: reader } = await Wire.user(server.wsUrl, emails[0] as string, false);
    try {
      for (const roomId of roomIds) {
        const history = await reader.history(roomId);
        stored += history.length;
        const want = texts.get(roomId)!;
        const seqs = history.map((m) => m.seq);
        if (seqs.some((seq, i) => seq !== i + 1)) violations.push(`room ${roomId}: seqs are not 1..${history.length}`);
        const keys = new Set(history.map((m) => `${m.senderId}/${m.clientId}`));
        if (keys.size !== history.length) violations.push(`room ${roomId}: ${history.length - keys.size} messages stored twice (same sender and clientId)`);
        const byText = new Map<string, number>();
        for (const m of history) byText.set(m.text, (byText.get(m.text) ?? 0) + 1);
        const lost = want.filter((t) => !byText.has(t));
        const twice = [...byText].filter(([, n]) => n > 1).map(([t]) => t);
        const unknown = [...byText.keys()].filter((t) => !want.includes(t));
        if (lost.length) violations.push(`room ${roomId}: ${lost.length} messages lost, e.g. "${lost[0]}"`);
        if (twice.length) violations.push(`room ${roomId}: ${twice.length} texts stored more than once, e.g. "${twice[0]}"`);
        if (unknown.length) violations.push(`room ${roomId}: ${unknown.length} messages nobody sent`);
        // Each sender's messages keep the order they were sent in (one in flight per room).
        for (let c = 0; c < options.clients; c++) {
          const own = history.filter((m) => m.senderId === ids[c]).map((m) => Number(/message (\d+)$/.exec(m.text)?.[1]));
          if (own.some((n, i) => i > 0 && n < (own[i - 1] as number))) violations.push(`room ${roomId}: client ${c}'s messages out of send order`);
        }
        const serverOrder = history.map((m) => `${m.seq}:${m.senderId}/${m.clientId}`).join(',');
        clients.forEach((client, c) => {
          const { messages } = client.messages(roomId).getSnapshot();
          const stuck = messages.filter((m) => m.status !== 'sent');
          if (stuck.length) violations.push(`client ${c}, room ${roomId}: ${stuck.length} messages still ${stuck[0]?.status}`);
          const order = messages.map((m) => `${m.seq}:${m.senderId}/${m.clientId}`).join(',');
          if (order !== serverOrder) violations.push(`client ${c}, room ${roomId}: holds ${messages.length} messages, not the server's ${history.length} in its order`);
        });
      }
    } finally {
      reader.close();
    }
  } catch (error) {
    violations.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const client of clients) client.close();
    await proxy.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  return { options, sent, stored, proxy: { ...proxy.stats }, restarts, durationMs: Date.now() - started, violations };
}
