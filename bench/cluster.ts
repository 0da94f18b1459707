/**
 * Scale-out: the same load against 1 server process on SQLite (a file), 1 on PostgreSQL, and
 * 3 on PostgreSQL + Redis, in one run. Each setup gets a fresh database. The clients go
 * straight to the processes (client i of a room on process i mod 3), not through HAProxy:
 * so that the sender and most receivers of every message are on different processes by
 * construction, and so that the balancer's CPU does not share the 2 cores with what is
 * measured (npm run cluster's test shows the balancer works; it adds one hop per frame).
 * CPU of every process (servers, PostgreSQL with its backends, redis-server, the generator)
 * is read from /proc, so the table says which one is the limit.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_SERVER_OPTIONS, type ServerOptions } from '@chat/mock-server';
import { type RunningPostgres, type RunningRedis, startPostgres, startRedis } from '../test/support/services.mjs';
import { ServerProcess } from './lib/server-process.js';
import { treeCpuSeconds } from './lib/proc-cpu.js';
import { type LoadPhase, connectRooms, runLoad } from './lib/room-load.js';
import { fmt, machine, ms, replaceSection, table } from './lib/stats.js';
import { sleep } from './lib/wire.js';

export type SetupName = 'sqlite' | 'postgres' | 'postgres+redis';

export interface CpuShare {
  name: string;
  /** CPU seconds per 1,000 deliveries. */
  secondsPer1k: number;
  /** CPU seconds per second of the measured window: 1.00 is one whole core. */
  cores: number;
}

export interface SetupResult {
  setup: SetupName;
  processes: number;
  fixed: LoadPhase;
  saturated: LoadPhase;
  cpu: CpuShare[];
}

/** Raised far above the protocol's 30/s: the load sends hundreds a second per process. */
const LOAD_OPTIONS: ServerOptions = {
  rateLimit: { perSecond: 100_000, burst: 100_000 },
  // Every client comes from 127.0.0.1: the per-address socket cap is lifted too.
  limits: { ...TEST_SERVER_OPTIONS.limits, connectionsPerIp: 1_000_000 },
  authTimeoutMs: 600_000,
};

interface Running {
  servers: ServerProcess[];
  urls: string[];
  /** Processes whose CPU is read, by name: each server, then postgres and redis-server. */
  pids: Array<{ name: string; pid: number }>;
  stop: () => Promise<void>;
}

async function startSetup(setup: SetupName): Promise<Running> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-bench-cluster-'));
  const processes = setup === 'postgres+redis' ? 3 : 1;
  // The durability SQLite runs with (WAL, synchronous NORMAL): a commit does not wait for the
  // disk, a crash of the process loses nothing, a power cut the last fraction of a second.
  // PostgreSQL's equal is synchronous_commit off (fsync stays on: no corruption either way).
  const postgres: RunningPostgres | undefined = setup === 'sqlite' ? undefined : await startPostgres({ fsync: true, settings: { synchronous_commit: 'off' } });
  const redis: RunningRedis | undefined = setup === 'postgres+redis' ? await startRedis() : undefined;
  const options: ServerOptions = {
    ...LOAD_OPTIONS,
    db: postgres ? postgres.url : join(dir, 'chat.sqlite'),
    uploadsDir: join(dir, 'uploads'),
    ...(redis ? { redis: redis.url } : {}),
  };
  const servers: ServerProcess[] = [];
  const urls: string[] = [];
  // The first alone (it migrates the new database), then the others.
  for (let i = 0; i < processes; i++) {
    const server = await ServerProcess.spawn();
    servers.push(server);
    urls.push((await server.start('chat', options)).wsUrl);
  }
  const pids = [
    ...servers.map((s, i) => ({ name: processes > 1 ? `server ${i + 1}` : 'server', pid: s.pid as number })),
    ...(postgres ? [{ name: 'postgres', pid: postgres.pid() as number }] : []),
    ...(redis ? [{ name: 'redis-server', pid: redis.pid() as number }] : []),
  ];
  return {
    servers,
    urls,
    pids,
    stop: async () => {
      await Promise.all(servers.map((s) => s.kill()));
      await redis?.stop();
      await postgres?.stop('immediate');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterLoad {
  users: number;
  roomSize: number;
  /** Sends per second of the fixed-rate phase (latency). */
  ratePerSec: number;
  /** Sends in flight in the saturated phase (throughput, CPU). */
  window: number;
  timing: { warmupMs: number; measureMs: number; drainMs: number };
}

export async function runSetup(setup: SetupName, load: ClusterLoad): Promise<SetupResult> {
  const running = await startSetup(setup);
  try {
    const members = await connectRooms(running.urls, load.users, load.roomSize, setup.replace('+', ''));
    // The sign-ins' own writes (sessions, presence) settle before the load.
    await sleep(2000);
    const fixed = await runLoad(members, load.roomSize, { ...load.timing, counting: 'window-arrivals', ratePerSec: load.ratePerSec });
    let before: number[] = [];
    let after: number[] = [];
    let startedAt = 0;
    let endedAt = 0;
    const read = () => [...running.pids.map(({ pid }) => treeCpuSeconds(pid)), generatorSeconds()];
    const saturated = await runLoad(members, load.roomSize, {
      ...load.timing,
      counting: 'window-arrivals',
      window: load.window,
      onMeasureStart: () => void ((before = read()), (startedAt = performance.now())),
      onMeasureEnd: () => void ((after = read()), (endedAt = performance.now())),
    });
    for (const m of members) m.wire.close();
    const names = [...running.pids.map((p) => p.name), 'load generator'];
    const seconds = (endedAt - startedAt) / 1000;
    const cpu = names.map((name, i) => {
      const used = (after[i] as number) - (before[i] as number);
      return { name, secondsPer1k: (used / Math.max(1, saturated.deliveredSinceStart)) * 1000, cores: used / seconds };
    });
    return { setup, processes: running.servers.length, fixed, saturated, cpu };
  } finally {
    await running.stop();
  }
}

function generatorSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

/** What 100,000 connected users need, from one setup's CPU per delivery, at `sendsPerUserPerMinute`. */
export function forUsers(result: SetupResult, users: number, roomSize: number, sendsPerUserPerMinute: number, coreBudget = 0.7) {
  const deliveriesPerSec = ((users * sendsPerUserPerMinute) / 60) * roomSize;
  const cores = (name: (n: string) => boolean) =>
    result.cpu.filter((c) => name(c.name)).reduce((sum, c) => sum + c.secondsPer1k, 0) * (deliveriesPerSec / 1000);
  const serverCores = cores((n) => n.startsWith('server'));
  return {
    deliveriesPerSec,
    serverCores,
    postgresCores: cores((n) => n === 'postgres'),
    redisCores: cores((n) => n === 'redis-server'),
    /** Server processes each kept at `coreBudget` of a core (headroom for bursts and reconnect storms). */
    processes: Math.max(1, Math.ceil(serverCores / coreBudget)),
  };
}

const LABEL: Record<SetupName, string> = {
  sqlite: '1 process, SQLite file',
  postgres: '1 process, PostgreSQL',
  'postgres+redis': '3 processes, PostgreSQL + Redis',
};

export async function writeClusterSection(docPath: string, { quick, log }: { quick: boolean; log: (text: string) => void }): Promise<SetupResult[]> {
  const load: ClusterLoad = quick
    ? { users: 90, roomSize: 10, ratePerSec: 30, window: 60, timing: { warmupMs: 500, measureMs: 1500, drainMs: 3000 } }
    : { users: 300, roomSize: 10, ratePerSec: 20, window: 100, timing: { warmupMs: 3000, measureMs: 8000, drainMs: 15_000 } };
  const loadBefore = loadavg();
  const results: SetupResult[] = [];
  for (const setup of ['sqlite', 'postgres', 'postgres+redis'] as const) {
    log(`scale-out: ${LABEL[setup]}`);
    const result = await runSetup(setup, load);
    results.push(result);
    log(`  ${fmt(result.saturated.deliveredPerSec)} deliveries/s saturated; fixed rate p50 ${ms(result.fixed.p50)}, p99 ${ms(result.fixed.p99)}`);
  }
  const loadAfter = loadavg();
  const [sqlite, , cluster] = results as [SetupResult, SetupResult, SetupResult];
  const users = 100_000;
  const perMinute = 1;
  const need = forUsers(cluster, users, load.roomSize, perMinute);
  const x = (value: number) => `${fmt(value, 2)}x`;
  const body = `
Last run: ${machine()}; load average ${loadBefore.map((l) => fmt(l, 2)).join(', ')} before and
${loadAfter.map((l) => fmt(l, 2)).join(', ')} after (1, 5, 15 min: the machine is shared, so
compare the rows of one run, not runs). \`npm run bench:cluster\` runs this section alone.

${fmt(load.users)} raw protocol clients in rooms of ${load.roomSize}, the same load against each setup,
each on a fresh database, both with the same durability: SQLite a file in WAL mode with
\`synchronous = NORMAL\` (the server's setting), PostgreSQL with \`fsync\` on and
\`synchronous_commit = off\`; neither waits for the disk at each commit, a crashed process
loses nothing, a power cut the last fraction of a second. With 3 processes the clients go straight to the processes, client *i* of
each room on process *i* mod 3, not through HAProxy: every message then has its sender and
most receivers on different processes, and the balancer's CPU stays off the 2 cores being
measured. *Fixed rate*: ${fmt(load.ratePerSec)} sends/s (${fmt(load.ratePerSec * load.roomSize)} deliveries/s offered);
latency from send to delivery, with 3 processes only for receivers on another process than
the sender (through PostgreSQL and Redis). *Saturated*: ${fmt(load.window)} sends in flight; deliveries per second
arriving in the ${fmt(load.timing.measureMs / 1000)} s window (after ${fmt(load.timing.warmupMs / 1000)} s of warm-up); *missing*: deliveries of either phase
not there ${fmt(load.timing.drainMs / 1000)} s after its window.

${table(
  ['setup', 'fixed: deliveries/s', 'p50', 'p99', 'missing', 'saturated deliveries/s', 'vs SQLite'],
  results.map((r) => [
    LABEL[r.setup],
    fmt(r.fixed.deliveredPerSec),
    ms(r.fixed.p50),
    ms(r.fixed.p99),
    fmt(r.fixed.missing + r.saturated.missing),
    fmt(r.saturated.deliveredPerSec),
    x(r.saturated.deliveredPerSec / sqlite.saturated.deliveredPerSec),
  ]),
)}

Where the time goes, saturated: CPU seconds (user + system, from \`/proc/<pid>/stat\`;
PostgreSQL counted with its backends) per 1,000 deliveries, and how much of a core each
process used during the window (the machine has 2; the load generator shares them):

${table(
  ['setup', ...cpuNames(results)],
  results.map((r) => [LABEL[r.setup], ...cpuNames(results).map((name) => cell(r, name))]),
)}

Together our processes used ${results.map((r) => `${fmt(r.cpu.reduce((sum, c) => sum + c.cores, 0), 2)} (${LABEL[r.setup]})`).join(', ')}
of the 2 cores. Where that is well below 2 while the load average is high, other programs on
the machine held the cores: every setup was starved alike, the throughput rows are a floor,
and the CPU seconds per 1,000 deliveries are the figures that carry over to another machine.

**For ${fmt(users)} connected users** (from the 3-process row; the load assumed: each user sends
${perMinute} message a minute into rooms of ${load.roomSize}, so ${fmt((users * perMinute) / 60)} sends/s and
${fmt(need.deliveriesPerSec)} deliveries/s): server processes need ${fmt(need.serverCores, 1)} cores in all,
so **${need.processes} processes** at 70% of a core each; PostgreSQL ${fmt(need.postgresCores, 1)} cores; Redis
${fmt(need.redisCores, 2)} of a core (one thread: it is the limit first if that figure nears 1). That is
${fmt(users / need.processes)} connections a process. The CPU for the connections themselves (pings every
30 s, sign-ins, reconnect storms) comes on top, and memory per connection is in the fan-out
section above. The arithmetic is in \`bench/cluster.ts\` (\`forUsers\`).
`;
  writeFileSync(docPath, replaceSection(readFileSync(docPath, 'utf8'), 'scale-out', `### Scale-out\n${body}`));
  log('wrote the scale-out section of docs/benchmarks.md');
  return results;
}

function cpuNames(results: readonly SetupResult[]): string[] {
  const names = new Set<string>();
  for (const r of results) for (const c of r.cpu) names.add(c.name);
  return [...names];
}

function cell(result: SetupResult, name: string): string {
  const c = result.cpu.find((entry) => entry.name === name);
  return c ? `${fmt(c.secondsPer1k, 3)} s (${fmt(c.cores, 2)} core)` : '-';
}
