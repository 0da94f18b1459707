import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import { CloseCode, MAX_CLIENT_FRAME_BYTES, withRetryHint } from '@chat/sdk/protocol';
import { Admission } from './admission.js';
import { ClusterLock } from './cluster-lock.js';
import { Cluster } from './cluster.js';
import { Connection } from './connection.js';
import type { ServerContext } from './context.js';
import { Faults } from './faults.js';
import { Hub, type ServerStats } from './hub.js';
import { Limits, MemoryLimitStore } from './limits/index.js';
import { createLogger } from './log.js';
import { type ServerOptions, resolveOptions } from './options.js';
import { OriginPolicy } from './origins.js';
import { PresenceTracker } from './presence.js';
import { seedSample } from './sample.js';
import { Sessions } from './sessions.js';
import { openAsyncStorage, sweepUploadFiles } from './storage/index.js';
import { TypingTracker } from './typing.js';
import { createHttpHandler } from './uploads.js';

export interface ServerFaults {
  /** Closes every connection now: without a code like a network loss (terminate), with one cleanly. */
  dropAll(code?: number): void;
  /** Keeps reading frames but answers nothing for `ms`, then processes them in arrival order. */
  stall(ms: number): void;
  /** The next `n` writing actions (create_user, create_room, create_message) reply INTERNAL and write nothing. */
  failNextWrites(n: number): void;
}

export interface RunningServer {
  /** 'http://127.0.0.1:PORT' */
  httpUrl: string;
  /** 'ws://127.0.0.1:PORT/ws' */
  wsUrl: string;
  port: number;
  /** The emails of the sample people seeded at start (`sample: true` on a database without users), else empty. */
  seeded: string[];
  stats(): ServerStats;
  /** Typing and presence counters: `typing` frames taken since the start, users online now (tests and benchmarks). */
  awareness(): { typingFrames: number; online: number };
  /** Runs the background clean-up now (it runs every minute): deletes expired sessions and orphan uploads; resolves when done. */
  sweep(): Promise<void>;
  faults: ServerFaults;
  /** Like SIGTERM: stops accepting, closes sockets with 1001, closes storage. Safe to call twice. */
  close(): Promise<void>;
}

export const EMAIL_LOGIN_WARNING =
  'WARNING: email sign-in is ON: anyone who can reach this server can sign in as any user with just an email (development only; CHAT_EMAIL_LOGIN=off to turn it off)';

/** How often expired sessions and orphan uploads are deleted. */
const SWEEP_INTERVAL_MS = 60_000;
/** Orphan uploads deleted per batch (one transaction each). */
const ORPHANS_PER_BATCH = 1;

/** How long `close()` waits for close handshakes before cutting the remaining sockets. */
const CLOSE_GRACE_MS = 1000;
/**
 * How many reconnects a second a restarted server is asked to take: the 1001 close spreads
 * the crowd's first retries over (connections ÷ this) seconds, never less than the hint
 * itself, so 1,000 clients come back over 1 s and 10,000 over 10 s (protocol section 9).
 */
const RECONNECTS_PER_SECOND = 1000;

function restartWindowMs(connections: number, retryAfterMs: number): number {
  return Math.max(retryAfterMs, Math.ceil((connections * 1000) / RECONNECTS_PER_SECOND));
}

export async function startServer(input: ServerOptions = {}): Promise<RunningServer> {
  const options = resolveOptions(input);
  const log = createLogger(options.logLevel);
  const storage = await openAsyncStorage(options);
  let lock: ClusterLock | undefined;
  try {
    // One process without Redis on a PostgreSQL database, or any number with it: never both.
    if (storage.kind === 'postgres') lock = await ClusterLock.take(options.db, { withRedis: options.redis !== undefined, log });
    // Before anyone can upload: unfinished files, files without records and records without files go.
    // On PostgreSQL other processes share the database and maybe the folder: their records
    // and their uploads in flight are left alone (sweepUploadFiles).
    const swept = await sweepUploadFiles(storage, { shared: storage.kind === 'postgres' });
    if (swept.partials + swept.strayFiles + swept.missingFiles > 0) log.info('upload files checked', swept);
  } catch (error) {
    await lock?.close();
    await storage.close();
    throw error;
  }
  // Work that uses storage and has not settled yet (requests, uploads, sweeps): `close()`
  // waits for all of it before it closes storage, so nothing writes to a closed store.
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inflight.add(work);
    const done = () => void inflight.delete(work);
    work.then(done, done);
    return work;
  };
  // Frames of connections opened before the start-up work (the sample) is done wait for it.
  let ready: () => void = () => {};
  const started = new Promise<void>((resolve) => (ready = resolve));
  let cluster: Cluster | undefined;
  if (options.redis) {
    try {
      cluster = await Cluster.open(options.redis, { processTtlMs: options.processTtlMs, log });
    } catch (error) {
      await lock?.close();
      await storage.close();
      throw error;
    }
  }
  const now = Date.now;
  const hub = new Hub();
  if (cluster) {
    const relay = cluster.bus;
    hub.relay = (message) => relay.publish(message);
    relay.onMessage = (message) => hub.receive(message);
  }
  const presence = new PresenceTracker(storage, hub, { graceMs: options.presenceGraceMs, now, log, ...(cluster ? { shared: cluster.presence } : {}) });
  cluster?.watch(presence);
  // With Redis, limits hold across processes; alone, they stay plain maps in memory.
  const limitStore = cluster?.limits ?? new MemoryLimitStore();
  const typing = new TypingTracker(hub, now, limitStore);
  presence.onOffline((userId) => typing.forgetUser(userId));
  const ctx: ServerContext = {
    options,
    storage,
    log,
    now,
    hub,
    presence,
    typing,
    limits: new Limits(options.limits, limitStore),
    faults: new Faults(now),
    sessions: new Sessions(storage, { ttlMs: options.sessionTtlMs, jwtSecret: options.jwtSecret }, now),
    track,
    ready: started,
  };
  const origins = new OriginPolicy(options.origins);
  const admission = new Admission(ctx.limits, options.limits.serverAccepts, now);
  let address = '';
  const http = createServer(createHttpHandler(ctx, origins));
  // maxPayload makes ws close a bigger frame with 1009; 65,536 bytes exactly is accepted.
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_FRAME_BYTES, clientTracking: true });
  const sockets = new Set<Duplex>();

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') return refuse(socket, 404, 'Not Found');
    if (!origins.allows(req.headers.origin)) return refuse(socket, 403, 'Forbidden');
    const ip = clientAddress(req, options.trustProxy);
    wss.handleUpgrade(req, socket, head, (ws: WebSocket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      // Refused with a close code a browser can see (an HTTP status before the upgrade is hidden from it).
      const refusal = admission.refusal(ip);
      if (refusal !== undefined) return ws.close(CloseCode.TRY_AGAIN_LATER, refusal);
      if (!ctx.limits.openConnection(ip)) return ws.close(CloseCode.TRY_AGAIN_LATER, 'too many connections from this address');
      new Connection(ws, ctx, ip, socket);
    });
  });
  http.on('clientError', (_error, socket) => socket.destroy());

  const heartbeat = setInterval(() => {
    for (const connection of ctx.hub.connections()) connection.heartbeat();
  }, options.heartbeatIntervalMs);
  heartbeat.unref();
  // Expired sessions and orphan uploads are deleted in the background, not only when looked up.
  // Orphans go a few at a time, yielding between batches, so a big clean-up never holds
  // up the frames of everyone else.
  let sweepStopped = false;
  const sweep = (): Promise<void> =>
    track(
      (async () => {
        try {
          await ctx.sessions.deleteExpired();
          const before = now() - options.limits.orphanUploadTtlMs;
          while (!sweepStopped && (await ctx.storage.deleteOrphanUploads(before, ORPHANS_PER_BATCH)) === ORPHANS_PER_BATCH) {
            await new Promise((resolve) => setImmediate(resolve));
          }
        } catch (error) {
          log.error('sweep failed', { error });
        }
      })(),
    );
  const sweeper = setInterval(() => void sweep(), SWEEP_INTERVAL_MS);
  sweeper.unref();

  let seeded: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port, options.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    // Only once the port is ours; frames that arrive meanwhile wait for `ready`.
    if (options.sample) seeded = await seedSample(storage, now());
    // In the background, a batch at a time, as every minute after: a big backlog of orphans
    // never holds up the first frames.
    void sweep();
    ready();
  } catch (error) {
    clearInterval(heartbeat);
    clearInterval(sweeper);
    sweepStopped = true;
    ready();
    for (const ws of wss.clients) ws.terminate();
    http.close();
    await Promise.allSettled([...inflight]);
    await cluster?.close();
    await lock?.close();
    await storage.close();
    throw error;
  }
  const port = (http.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  address = `http://${hostInUrl}:${port}`;
  // First, and loud: with email sign-in anyone who can reach the server signs in as anyone.
  if (options.emailLogin) log.warn(EMAIL_LOGIN_WARNING);
  log.info('listening', { url: address, storage: storage.kind, db: withoutPassword(options.db), ...(options.redis ? { redis: withoutPassword(options.redis) } : {}) });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      clearInterval(heartbeat);
      clearInterval(sweeper);
      sweepStopped = true;
      ctx.faults.dispose();
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeAllConnections();
      const reason = options.restartRetryAfterMs > 0 ? withRetryHint('server shutting down', options.restartRetryAfterMs, restartWindowMs(wss.clients.size, options.restartRetryAfterMs)) : 'server shutting down';
      for (const ws of wss.clients) ws.close(CloseCode.GOING_AWAY, reason);
      await waitUntil(() => wss.clients.size === 0, CLOSE_GRACE_MS);
      for (const ws of wss.clients) ws.terminate();
      for (const socket of sockets) socket.destroy();
      await stopped;
      wss.close();
      // Requests already read, uploads and sweeps finish against an open store.
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
      await presence.close(); // everyone online now was last seen now
      await cluster?.close();
      await lock?.close();
      await storage.close();
      log.info('stopped');
    })());

  return {
    httpUrl: address,
    wsUrl: `ws://${hostInUrl}:${port}/ws`,
    port,
    seeded,
    stats: () => ctx.hub.stats(),
    awareness: () => ({ typingFrames: typing.frames, online: presence.onlineCount() }),
    sweep,
    faults: {
      dropAll(code?: number) {
        for (const connection of ctx.hub.connections()) {
          if (code === undefined) connection.terminate();
          else connection.close(code, 'dropped by faults.dropAll');
        }
      },
      stall: (ms) => ctx.faults.stall(ms),
      failNextWrites: (n) => ctx.faults.failNextWrites(n),
    },
    close,
  };
}

/**
 * The client's address: the socket's peer, or behind a trusted reverse proxy the last
 * `X-Forwarded-For` entry (the one the proxy added; earlier ones are the client's word).
 */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trustProxy) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded ?? '').split(',').map((s) => s.trim()).filter(Boolean).pop();
  return last ?? peer;
}

/** A database url as it may be logged: its password, if any, replaced. */
export function withoutPassword(db: string): string {
  try {
    const url = new URL(db);
    if (!url.password) return db;
    url.password = '***';
    return url.toString();
  } catch {
    return db; // a file name
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const started = Date.now();
    const tick = () => (done() || Date.now() - started >= timeoutMs ? resolve() : setTimeout(tick, 10));
    tick();
  });
}
