/**
 * Server fan-out: K raw protocol clients in rooms of M members, on loopback, against the
 * reference server and against the bare `ws` broadcast baseline, each in a child process.
 * Two phases per server: a fixed rate (latency from send to delivery at every member) and a
 * saturating closed loop (at most `window` sends in flight; throughput).
 */
import { performance } from 'node:perf_hooks';
import { TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { ServerProcess } from './lib/server-process.js';
import { summary } from './lib/stats.js';
import { Wire, pool, sleep, waitFor } from './lib/wire.js';

export type ServerKind = 'chat' | 'baseline';

export interface FanoutSize {
  users: number;
  roomSize: number;
  /** Messages per second per user in the fixed-rate phase. */
  ratePerUser: number;
}

export interface PhaseResult {
  /** Deliveries (one message arriving at one member) per second. */
  deliveredPerSec: number;
  sendsPerSec: number;
  p50: number;
  p99: number;
  /** Deliveries that never arrived (fixed-rate phase: counted after a drain). */
  missing: number;
  /** Server CPU (user + system) per 1,000 deliveries, in ms. */
  cpuMsPer1k: number;
}

export interface FanoutResult {
  kind: ServerKind;
  size: FanoutSize;
  setupMs: number;
  fixed: PhaseResult;
  saturated: PhaseResult;
}

/** The server's rate limit during the load: far above what the generator sends on one connection. */
export const LOAD_RATE_LIMIT = { perSecond: 100_000, burst: 100_000 };
/**
 * Every generated client connects from 127.0.0.1, so the per-address socket cap (100 by
 * default, docs/security.md) is lifted on top of the test limits (sign-ups and rooms per
 * address); the per-address request rate follows `rateLimit`.
 */
export const LOAD_LIMITS = { ...TEST_SERVER_OPTIONS.limits, connectionsPerIp: 1_000_000 };

interface Member {
  wire: Wire;
  index: number;
  roomId: string;
}

const runTag = Date.now().toString(36);
/** Numbers every request and clientId of the run: a clientId used twice would be a duplicate, with no event. */
let requestNo = 0;

/** Connects K users and groups them in rooms of M: signed up and logged in (ours) or joined (baseline). */
async function connect(kind: ServerKind, url: string, size: FanoutSize, tag: string): Promise<Member[]> {
  const rooms = Math.ceil(size.users / size.roomSize);
  const indexes = Array.from({ length: size.users }, (_, i) => i);
  if (kind === 'baseline') {
    return pool(indexes, 100, async (index) => {
      const wire = await Wire.open(url);
      const roomId = `room-${index % rooms}`;
      await wire.call('join', { roomId });
      return { wire, index, roomId };
    });
  }
  const users = await pool(indexes, 50, (index) => Wire.user(url, `u${index}-${tag}-${runTag}@bench.test`));
  const members: Member[] = users.map(({ wire }, index) => ({ wire, index, roomId: '' }));
  await pool(
    Array.from({ length: rooms }, (_, r) => r),
    20,
    async (r) => {
      const inRoom = members.filter((m) => m.index % rooms === r);
      const [owner, ...others] = inRoom;
      if (!owner) return;
      const { room } = await owner.wire.call('create_room', { memberIds: others.map((m) => users[m.index]!.user.id) });
      for (const m of inRoom) m.roomId = room.id;
    },
  );
  return members;
}

/**
 * One phase of load. `due(elapsedMs)` says how many sends should have happened by then
 * (fixed rate), or `window` caps the sends in flight (closed loop). Every message's text
 * carries its send time and sender, read back from the raw frame without parsing it.
 */
async function phase(
  server: ServerProcess,
  members: Member[],
  roomSize: number,
  options: { warmupMs: number; measureMs: number; drainMs: number; ratePerSec?: number; window?: number },
): Promise<PhaseResult> {
  let sent = 0;
  let measuredSends = 0;
  let delivered = 0;
  let inFlight = 0;
  let recording = false;
  const latencies: number[] = [];
  let next = 0;
  const sendOne = () => {
    const member = members[next++ % members.length] as Member;
    const n = ++requestNo;
    const stamp = `${performance.now().toFixed(3)}:${member.index}:${recording ? 1 : 0}`;
    member.wire.sendRaw(
      `{"action":"create_message","requestId":"s${n}","data":{"roomId":"${member.roomId}","clientId":"c${runTag}${n}","text":"@${stamp}"}}`,
    );
    sent++;
    inFlight++;
    if (recording) measuredSends++;
  };
  for (const member of members) {
    member.wire.onText = (text) => {
      if (!text.startsWith('{"type":"event"')) return;
      const at = text.indexOf('"text":"@');
      if (at === -1) return;
      const end = text.indexOf('"', at + 9);
      const [time, sender, measured] = text.slice(at + 9, end).split(':');
      if (Number(sender) === member.index) inFlight--;
      if (measured === '1') {
        delivered++;
        latencies.push(performance.now() - Number(time));
      }
    };
  }

  const started = performance.now();
  let measureStart = 0;
  let cpuStart: NodeJS.CpuUsage | undefined;
  const ticker = setInterval(() => {
    const now = performance.now();
    if (!recording && now - started >= options.warmupMs) {
      recording = true;
      measureStart = now;
      void server.cpu().then((cpu) => (cpuStart = cpu));
    }
    if (options.ratePerSec !== undefined) {
      const due = Math.floor(((now - started) / 1000) * options.ratePerSec);
      while (sent < due) sendOne();
    }
    if (options.window !== undefined) {
      while (inFlight < options.window) sendOne();
    }
  }, 5);
  const total = options.warmupMs + options.measureMs;
  await sleep(total);
  clearInterval(ticker);
  const measuredMs = performance.now() - measureStart;
  const expected = measuredSends * roomSize;
  // Deliveries that arrive while draining count for latency and loss, not for the rate.
  const deliveredInWindow = delivered;
  await waitFor(() => delivered >= expected, options.drainMs);
  const cpuEnd = await server.cpu();
  const cpuMs = cpuStart ? (cpuEnd.user - cpuStart.user + cpuEnd.system - cpuStart.system) / 1000 : NaN;
  for (const member of members) member.wire.onText = undefined;
  const { p50, p99 } = summary(latencies);
  return {
    deliveredPerSec: (deliveredInWindow / measuredMs) * 1000,
    sendsPerSec: (measuredSends / measuredMs) * 1000,
    p50,
    p99,
    missing: Math.max(0, expected - delivered),
    cpuMsPer1k: (cpuMs / Math.max(1, delivered)) * 1000,
  };
}

/** Runs both phases of one size against one kind of server, in a fresh child process. */
export async function runFanout(kind: ServerKind, size: FanoutSize, timing = { warmupMs: 1000, measureMs: 4000, drainMs: 5000 }): Promise<FanoutResult> {
  const server = await ServerProcess.spawn();
  try {
    const { wsUrl } = await server.start(kind, { storage: 'sqlite', db: ':memory:', rateLimit: LOAD_RATE_LIMIT, limits: LOAD_LIMITS, authTimeoutMs: 600_000 });
    const setupStart = performance.now();
    const members = await connect(kind, wsUrl, size, `${kind}${size.users}`);
    const setupMs = performance.now() - setupStart;
    await sleep(200);
    const fixed = await phase(server, members, size.roomSize, { ...timing, ratePerSec: size.ratePerUser * size.users });
    const saturated = await phase(server, members, size.roomSize, { ...timing, drainMs: timing.drainMs, window: Math.max(200, Math.min(size.users, 1000)) });
    for (const m of members) m.wire.close();
    return { kind, size, setupMs, fixed, saturated };
  } finally {
    await server.kill();
  }
}

export interface IdleMemory {
  kind: ServerKind;
  connections: number;
  rssPerConnection: number;
  heapPerConnection: number;
}

/** RSS and heap growth of the server process over N idle connections (authenticated, for ours). */
export async function idleMemory(kind: ServerKind, connections: number): Promise<IdleMemory> {
  const server = await ServerProcess.spawn();
  try {
    const { wsUrl } = await server.start(kind, { storage: 'sqlite', db: ':memory:', rateLimit: LOAD_RATE_LIMIT, limits: LOAD_LIMITS, authTimeoutMs: 600_000 });
    // Users are signed up first and their connections closed: the delta is then the
    // connections (and, for ours, each login's session), not the accounts.
    const size = { users: connections, roomSize: 10, ratePerUser: 0 };
    const tag = `idle${kind}`;
    for (const m of await connect(kind, wsUrl, size, tag)) m.wire.close();
    await sleep(500);
    const before = await server.memory();
    const members =
      kind === 'chat'
        ? await pool(
            Array.from({ length: connections }, (_, i) => i),
            50,
            async (index) => ({ wire: (await Wire.user(wsUrl, `u${index}-${tag}-${runTag}@bench.test`, false)).wire }),
          )
        : await connect(kind, wsUrl, size, tag);
    await sleep(500);
    const after = await server.memory();
    for (const m of members) m.wire.close();
    return {
      kind,
      connections,
      rssPerConnection: (after.rss - before.rss) / connections,
      heapPerConnection: (after.heapUsed - before.heapUsed) / connections,
    };
  } finally {
    await server.kill();
  }
}
