/**
 * Message changes under chaos (protocol 10.5): SDK clients edit, delete and react to the
 * messages of a shared room through a proxy that cuts, delays and splits their connections,
 * while the server (SQLite on a file) restarts. Then every client's view of every message
 * (text, tombstone, reactions) must equal the server's, no change may be left pending, and
 * the room's change counter must equal the changes the clients saw applied (each once).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { type ChatChange, type ChatClient, type ChatMessage, createChatClient, exponentialBackoff } from '@chat/sdk';
import { Wire, sleep, waitFor } from '../lib/wire.js';
import { ChaosProxy, type ProxyOptions, type ProxyStats } from './proxy.js';

export interface ChangesOptions {
  clients: number;
  /** Messages each client sends (calmly) before the changes start. */
  messagesPerClient: number;
  /** Changes each client makes under chaos. */
  changesPerClient: number;
  restarts: number;
  /** Pause between one client's changes (ms). */
  changeEveryMs: number;
  proxy: ProxyOptions;
  chaosAfterChangesMs: number;
  settleMs: number;
  /** Seed of the choices, so a failing run can be repeated. */
  seed?: number;
}

export interface ChangesResult {
  options: ChangesOptions;
  made: number;
  applied: number;
  refused: number;
  lastRev: number;
  restarts: number;
  proxy: ProxyStats;
  durationMs: number;
  violations: string[];
}

const EMOJI = ['👍', '🎉', '❤️', '😂', '👀'];

/** A small seeded generator (mulberry32): the same seed makes the same choices. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** What is compared: the text, the tombstone and who reacted with what. */
function view(m: { id: string | null; text: string; deletedAt?: number | undefined; reactions?: unknown }): string {
  const reactions: Record<string, string[]> = {};
  if (Array.isArray(m.reactions)) for (const r of m.reactions as ChatMessage['reactions'] & object) reactions[r.emoji] = [...r.userIds];
  else if (m.reactions) Object.assign(reactions, m.reactions);
  const sorted = Object.keys(reactions).sort().map((e) => `${e}:${reactions[e]!.join('+')}`);
  return `${m.id}|${m.deletedAt !== undefined ? 'DELETED' : m.text}|${sorted.join(',')}`;
}

export async function runChanges(options: ChangesOptions): Promise<ChangesResult> {
  const started = Date.now();
  const next = random(options.seed ?? 14);
  const dir = mkdtempSync(join(tmpdir(), 'chat-chaos-changes-'));
  const db = join(dir, 'chat.sqlite');
  let server: RunningServer = await startServer({ db, ...TEST_SERVER_OPTIONS });
  const port = server.port;
  const proxy = await ChaosProxy.start(port, options.proxy);
  const clients: ChatClient[] = [];
  const violations: string[] = [];
  let made = 0;
  let refused = 0;
  let restarts = 0;
  let lastRev = 0;
  try {
    proxy.setChaos(false);
    const tag = Date.now().toString(36);
    const emails = Array.from({ length: options.clients }, (_, i) => `changes${i}-${tag}@chaos.test`);
    const setup = await Promise.all(emails.map((email) => Wire.user(server.wsUrl, email)));
    const ids = setup.map((s) => s.user.id);
    const { room } = await setup[0]!.wire.call('create_room', { name: 'changes', memberIds: ids.slice(1) });
    for (const { wire } of setup) wire.close();
    const roomId: string = room.id;

    const failed: ChatChange[][] = [];
    for (const email of emails) {
      const client = createChatClient({
        url: proxy.wsUrl,
        WebSocket: WebSocket as never,
        storage: 'memory',
        backoff: exponentialBackoff({ baseMs: 50, maxMs: 1000 }),
        requestTimeoutMs: 3000,
        pingIntervalMs: 2000,
      });
      const mine: ChatChange[] = [];
      failed.push(mine);
      client.on('changeFailed', (change) => mine.push(change));
      clients.push(client);
      await client.login({ email });
      const store = client.messages(roomId);
      await waitFor(() => !store.getSnapshot().loading, 10_000);
    }
    // Something to change, sent with the network calm.
    for (let i = 0; i < options.messagesPerClient; i++) clients.forEach((c, n) => c.send(roomId, { text: `client ${n} message ${i}` }));
    const total = options.clients * options.messagesPerClient;
    const ready = await waitFor(
      () => clients.every((c) => c.messages(roomId).getSnapshot().messages.filter((m) => m.status === 'sent').length === total),
      options.settleMs,
      50,
    );
    if (!ready) throw new Error('the messages to change did not arrive');

    proxy.setChaos(true);
    const restartAt = new Set(Array.from({ length: options.restarts }, (_, k) => Math.floor(((k + 1) * options.changesPerClient) / (options.restarts + 1))));
    for (let i = 0; i < options.changesPerClient; i++) {
      clients.forEach((client, n) => {
        const messages = client.messages(roomId).getSnapshot().messages.filter((m) => m.deletedAt === undefined);
        const own = messages.filter((m) => m.senderId === ids[n]);
        const roll = next();
        try {
          if (roll < 0.3 && own.length > 0) {
            const target = own[Math.floor(next() * own.length)]!;
            client.edit(roomId, target.clientId, { text: `client ${n} edit ${i}` });
          } else if (roll < 0.36 && own.length > 1) {
            client.delete(roomId, own[Math.floor(next() * own.length)]!.clientId);
          } else if (messages.length > 0) {
            const target = messages[Math.floor(next() * messages.length)]!;
            const emoji = EMOJI[Math.floor(next() * EMOJI.length)]!;
            // Toggle: the user's own reaction state is known here, so every reaction is a real change.
            if (target.reactions?.some((r) => r.emoji === emoji && r.mine)) client.unreact(roomId, target.clientId, emoji);
            else client.react(roomId, target.clientId, emoji);
          } else return;
          made++;
        } catch {
          // Refused at once (say, a message another client's view already shows deleted): nothing made.
        }
      });
      if (restartAt.has(i)) {
        await server.close();
        server = await startServer({ db, port, ...TEST_SERVER_OPTIONS });
        restarts++;
      }
      await sleep(options.changeEveryMs);
    }
    await sleep(options.chaosAfterChangesMs);
    proxy.setChaos(false);

    // Settled: no change pending anywhere.
    const quiet = () => clients.every((c) => c.messages(roomId).getSnapshot().messages.every((m) => !m.changes?.some((ch) => ch.status === 'pending')));
    if (!(await waitFor(quiet, options.settleMs, 100))) violations.push(`changes still pending ${options.settleMs} ms after the network calmed`);
    refused = failed.reduce((sum, list) => sum + list.length, 0);
    // Refused changes (a reaction to a message deleted meanwhile) are discarded: they applied nothing.
    for (const [n, list] of failed.entries()) for (const change of list) await clients[n]!.discard(change.clientChangeId).catch(() => undefined);

    const { wire: reader } = await Wire.user(server.wsUrl, emails[0]!, false);
    try {
      const history = await reader.history(roomId);
      const { rooms } = await reader.call('get_user_rooms', {});
      lastRev = rooms.find((r: { id: string }) => r.id === roomId)?.lastRev ?? 0;
      const want = history.map(view).join('\n');
      const converged = await waitFor(
        () => clients.every((c) => c.messages(roomId).getSnapshot().messages.map(view).join('\n') === want),
        options.settleMs,
        100,
      );
      if (!converged) {
        clients.forEach((c, n) => {
          const got = c.messages(roomId).getSnapshot().messages.map(view);
          const diff = got.findIndex((v, k) => v !== view(history[k]));
          if (got.join('\n') !== want) violations.push(`client ${n}: its view differs from the server's (first at #${diff}: ${got[diff]} vs ${view(history[diff] ?? { id: null, text: '' })})`);
        });
      }
      for (const [n, c] of clients.entries()) {
        const left = c.messages(roomId).getSnapshot().messages.filter((m) => m.changes?.length);
        if (left.length) violations.push(`client ${n}: ${left.length} messages still list changes`);
      }
      // Each change applied once: every one made and not refused moved the counter by one.
      const applied = made - refused;
      if (lastRev !== applied) violations.push(`the room's change counter is ${lastRev}, but ${applied} changes were applied`);
    } finally {
      reader.close();
    }
  } catch (error) {
    violations.push(`run failed: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    for (const client of clients) await client.close();
    await proxy.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { options, made, applied: made - refused, refused, lastRev, restarts, proxy: { ...proxy.stats }, durationMs: Date.now() - started, violations };
}
