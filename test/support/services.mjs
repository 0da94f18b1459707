// PostgreSQL, Redis and HAProxy for the scale-out tests and `npm run cluster`, found the same way
// as Chromium (test/support/chromium.mjs): an explicit path, then Debian's install, then,
// as root with apt-get, Debian's packages installed by scripts/ensure-services.mjs;
// otherwise one line saying how to get them. Plain JavaScript so scripts and tests share it.
//
// startPostgres() and startRedis() run throwaway servers on loopback, each in its own
// temporary folder, on a free port. PostgreSQL refuses to run as root, so as root its
// programs run as the `postgres` user that Debian's package creates.
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isExecutableFile } from './chromium.mjs';

export const HOW_TO_GET_THEM =
  "No PostgreSQL, Redis or HAProxy for the scale-out tests and `npm run cluster`: install Debian's `postgresql`, `redis-server` and `haproxy` (sudo apt-get install -y postgresql redis-server haproxy, or run `node scripts/ensure-services.mjs` as root), or set PG_BIN=/folder/with/initdb, REDIS_SERVER=/path/to/redis-server and HAPROXY=/path/to/haproxy";

/**
 * Where each program is, from facts passed in (so it can be tested without changing the machine).
 * @param {{ env: Record<string, string | undefined>, isExecutable: (path: string) => boolean, isRoot: boolean, postgresDirs: string[] }} facts
 *   `postgresDirs`: the `bin` folders of Debian's PostgreSQL versions, newest first.
 * @returns {{ action: 'use', pgBin: string, redisServer: string, haproxy: string } | { action: 'install', missing: string[] } | { action: 'fail', message: string }}
 */
export function decideServices(facts) {
  const found = locateServices(facts);
  if ('fail' in found) return { action: 'fail', message: found.fail };
  const { pgBin, redisServer, haproxy } = found;
  if (pgBin && redisServer && haproxy) return { action: 'use', pgBin, redisServer, haproxy };
  const missing = [...(pgBin ? [] : ['postgresql']), ...(redisServer ? [] : ['redis-server']), ...(haproxy ? [] : ['haproxy'])];
  if (facts.isRoot && onPath(facts, 'apt-get')) return { action: 'install', missing };
  return { action: 'fail', message: HOW_TO_GET_THEM };
}

const onPath = ({ env, isExecutable }, name) =>
  (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, name)).find(isExecutable);

/**
 * Each program's path, or null where it is missing; `fail` when an explicit path is wrong
 * (never falls back from it). Apart from `decideServices` so that a test needing only
 * PostgreSQL runs on a machine without HAProxy.
 * @returns {{ pgBin: string | null, redisServer: string | null, haproxy: string | null } | { fail: string }}
 */
export function locateServices(facts) {
  const { env, isExecutable, postgresDirs } = facts;
  let pgBin = null;
  const explicitPg = env.PG_BIN?.trim();
  if (explicitPg) {
    if (!isExecutable(join(explicitPg, 'initdb')) || !isExecutable(join(explicitPg, 'postgres'))) {
      return { fail: `PG_BIN=${explicitPg} holds no initdb and postgres; point it at PostgreSQL's bin folder or unset it` };
    }
    pgBin = explicitPg;
  } else {
    pgBin = postgresDirs.find((dir) => isExecutable(join(dir, 'initdb')) && isExecutable(join(dir, 'postgres'))) ?? null;
  }

  let redisServer = null;
  const explicitRedis = env.REDIS_SERVER?.trim();
  if (explicitRedis) {
    if (!isExecutable(explicitRedis)) return { fail: `REDIS_SERVER=${explicitRedis} is not an executable file; point it at redis-server or unset it` };
    redisServer = explicitRedis;
  } else {
    redisServer = ['/usr/bin/redis-server'].find(isExecutable) ?? onPath(facts, 'redis-server') ?? null;
  }

  let haproxy = null;
  const explicitHaproxy = env.HAPROXY?.trim();
  if (explicitHaproxy) {
    if (!isExecutable(explicitHaproxy)) return { fail: `HAPROXY=${explicitHaproxy} is not an executable file; point it at haproxy or unset it` };
    haproxy = explicitHaproxy;
  } else {
    // Debian puts it in /usr/sbin, which a non-root PATH often lacks.
    haproxy = ['/usr/sbin/haproxy'].find(isExecutable) ?? onPath(facts, 'haproxy') ?? null;
  }
  return { pgBin, redisServer, haproxy };
}

/** Debian puts each PostgreSQL version in /usr/lib/postgresql/<major>/bin. */
export function debianPostgresDirs(root = '/usr/lib/postgresql') {
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a))
    .map((major) => join(root, major, 'bin'));
}

export function currentFacts(env = process.env) {
  return { env, isExecutable: isExecutableFile, isRoot: process.getuid?.() === 0, postgresDirs: debianPostgresDirs() };
}

/**
 * The programs to run, never installing them: throws an Error whose message is one line.
 * `need` names the ones the caller runs; the others may be missing.
 * @param {Array<'pgBin' | 'redisServer' | 'haproxy'>} need
 */
export function findServices(env = process.env, need = ['pgBin', 'redisServer', 'haproxy']) {
  const found = locateServices(currentFacts(env));
  if ('fail' in found) throw new Error(found.fail);
  if (need.some((name) => !found[name])) throw new Error(`${HOW_TO_GET_THEM} (\`npm test\` installs them itself)`);
  return found;
}

/** A port free on loopback a moment ago (the server that takes it reports if it was taken meanwhile). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on the port, or rejects after `timeoutMs`. */
export async function waitForPort(port, timeoutMs, isAlive = () => true) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      socket.once('connect', () => { socket.destroy(); resolve(true); });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (!isAlive()) throw new Error(`the server meant for port ${port} exited before it listened`);
    if (Date.now() > deadline) throw new Error(`nothing listened on 127.0.0.1:${port} within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls `ready` every 50 ms until it holds, or rejects after `timeoutMs`. */
async function waitUntil(ready, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > deadline) throw new Error(`waited ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const asRoot = () => process.getuid?.() === 0;

/** As root, PostgreSQL's programs run as `postgres` (spawned with its uid, so signals reach them). */
function pgSpawnOptions() {
  if (!asRoot()) return {};
  const [uid, gid] = postgresIds();
  return { uid, gid, env: { ...process.env, HOME: '/var/lib/postgresql' } };
}

/**
 * A throwaway PostgreSQL on loopback: its own cluster in a temporary folder, trust
 * authentication, `fsync` as given (off by default: tests do not survive power loss, and
 * a restart of the process keeps its data either way). `ownProcessGroup`: out of the
 * caller's process group, so a Ctrl-C in the terminal does not stop it before the servers
 * using it (npm run cluster stops it last). `settings`: more `-c name=value` for the server.
 * @returns {Promise<{ url: string, port: number, dir: string, pid: () => number | undefined, stop: (mode?: 'fast' | 'immediate') => Promise<void>, restart: () => Promise<void> }>}
 */
export async function startPostgres({ fsync = false, port: wanted, ownProcessGroup = false, settings = {} } = {}) {
  const { pgBin } = findServices(process.env, ['pgBin']);
  const dir = mkdtempSync(join(tmpdir(), 'chat-pg-'));
  if (asRoot()) chownSync(dir, ...postgresIds());
  const data = join(dir, 'data');
  const init = spawnSync(join(pgBin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'], {
    ...pgSpawnOptions(),
    encoding: 'utf8',
  });
  if (init.status !== 0) throw new Error(`initdb failed: ${(init.stderr || init.stdout || String(init.error)).trim().split('\n').pop()}`);
  const port = wanted ?? (await freePort());

  let child;
  const launch = async () => {
    const args = ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', `fsync=${fsync ? 'on' : 'off'}`, '-c', 'max_connections=200', ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`])];
    child = spawn(join(pgBin, 'postgres'), args, { ...pgSpawnOptions(), stdio: ['ignore', 'ignore', 'pipe'], detached: ownProcessGroup });
    let stderr = '';
    child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-4000); });
    let alive = true;
    child.once('exit', () => { alive = false; });
    try {
      await waitForPort(port, 30_000, () => alive);
      // The port opens before the database accepts sessions ("the database system is starting up").
      await waitUntil(() => spawnSync(join(pgBin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(port), '-q']).status === 0, 30_000, 'PostgreSQL to accept connections');
    } catch (error) {
      throw new Error(`${error.message}: ${stderr.trim().split('\n').pop() ?? ''}`);
    }
  };
  const halt = (mode = 'fast') =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      // SIGINT is PostgreSQL's "fast" shutdown, SIGQUIT its "immediate" one (a crash, as far as data goes).
      child.kill(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    });
  await launch();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    pid: () => child?.pid,
    restart: async () => { await halt('fast'); await launch(); },
    stop: async (mode) => { await halt(mode); rmSync(dir, { recursive: true, force: true }); },
  };
}

function postgresIds() {
  const uid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error('PostgreSQL refuses to run as root and there is no `postgres` user to run it as');
  return [uid, gid];
}

/**
 * A throwaway Redis on loopback with no persistence (what it holds is short-lived by design).
 * `ownProcessGroup` as for startPostgres.
 * @returns {Promise<{ url: string, port: number, pid: () => number | undefined, stop: () => Promise<void>, restart: () => Promise<void> }>}
 */
export async function startRedis({ port: wanted, ownProcessGroup = false } = {}) {
  const { redisServer } = findServices(process.env, ['redisServer']);
  const port = wanted ?? (await freePort());
  let child;
  const launch = async () => {
    child = spawn(redisServer, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: ownProcessGroup,
    });
    let output = '';
    const keep = (chunk) => { output = (output + chunk).slice(-4000); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let alive = true;
    child.once('exit', () => { alive = false; });
    try {
      await waitForPort(port, 10_000, () => alive);
    } catch (error) {
      throw new Error(`${error.message}: ${output.trim().split('\n').pop() ?? ''}`);
    }
  };
  const halt = () =>
    new Promise((resolve) => {
      if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pid: () => child?.pid,
    restart: async () => { await halt(); await launch(); },
    stop: halt,
  };
}
