#!/usr/bin/env node
// `npm run cluster`: the reference server as 3 processes over one PostgreSQL and one Redis,
// behind HAProxy (scripts/cluster/haproxy.cfg), for development and for trying failover.
// Prints the url to connect to; Ctrl-C (SIGINT or SIGTERM) stops every process it started.
// A failure to start is one line on stderr, everything started so far stopped, exit 1
// (2 for a value that cannot be read).
//
//   PORT, HOST         where the balancer listens (default 127.0.0.1:8787, the port the demo
//                      app looks for by default)
//   CHAT_DB            postgres://… to use that database; unset: a throwaway PostgreSQL in a
//                      temporary folder, deleted on exit
//   CHAT_REDIS         redis://… to use that Redis; unset: a throwaway redis-server
//   CHAT_UPLOADS_DIR   the upload folder the 3 processes share; unset: a temporary folder,
//                      deleted on exit
//   any other CHAT_* / LOG_LEVEL   passed to every server process (docs/server.md)
//
// PostgreSQL, Redis and HAProxy are found as `npm test` finds them (test/support/services.mjs);
// `node scripts/ensure-services.mjs` installs those missing (as root, with apt-get).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findServices, freePort, startPostgres, startRedis, waitForPort } from '../test/support/services.mjs';

const SERVERS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));
const haproxyConfig = join(root, 'scripts/cluster/haproxy.cfg');
const log = (line) => process.stderr.write(`[cluster] ${line}\n`);

const started = { postgres: undefined, postgresStarting: undefined, redis: undefined, redisStarting: undefined, uploadsDir: undefined, servers: [], haproxy: undefined };
let stopping = false;

const isRunning = (child) => child && child.exitCode === null && child.signalCode === null;
const exited = (child) => (isRunning(child) ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve());

/**
 * Stops what was started, newest first (the balancer, the servers, then Redis and PostgreSQL),
 * and exits. Every child runs in its own process group, so a terminal's Ctrl-C reaches only
 * this script and the order holds: PostgreSQL stopping at the same moment as the servers
 * would fail their last writes (last-seen times) on the way out.
 */
async function stop(code) {
  if (stopping) return;
  stopping = true;
  const { haproxy, servers } = started;
  if (isRunning(haproxy)) haproxy.kill('SIGTERM');
  await exited(haproxy);
  // SIGTERM: each server closes its sockets with 1001 and its database pool, then exits.
  for (const server of servers) if (isRunning(server)) server.kill('SIGTERM');
  await Promise.all(servers.map(exited));
  // A Ctrl-C during start-up waits for PostgreSQL and Redis to be up, to stop them too: in
  // their own process groups, they would outlive us otherwise.
  const redis = started.redis ?? (await started.redisStarting?.catch(() => undefined));
  const postgres = started.postgres ?? (await started.postgresStarting?.catch(() => undefined));
  await redis?.stop();
  await postgres?.stop('fast');
  if (started.uploadsDir) rmSync(started.uploadsDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
process.on('uncaughtException', (error) => {
  log(`failed: ${error.message}`);
  void stop(1);
});

/** Once stopping (a Ctrl-C during start-up), the start-up goes no further: stop() exits. */
const unlessStopping = () => (stopping ? new Promise(() => {}) : Promise.resolve());

function fail(line, code = 1) {
  if (!stopping) log(line); // after a Ctrl-C, what fails is what is being stopped
  void stop(code);
  return new Promise(() => {}); // stop() exits
}

// 0. Settings and programs, before anything starts.
const host = process.env.HOST?.trim() || '127.0.0.1';
const port = process.env.PORT?.trim() ? Number(process.env.PORT) : 8787;
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  log(`PORT must be an integer from 0 to 65535 (the balancer's), got "${process.env.PORT}"`);
  process.exit(2);
}
const givenDb = process.env.CHAT_DB?.trim();
if (givenDb && !/^postgres(ql)?:\/\//.test(givenDb)) {
  log(`CHAT_DB must be a postgres:// url for the cluster (3 processes cannot share SQLite), got "${givenDb}"; unset it for a throwaway PostgreSQL`);
  process.exit(2);
}
const givenRedis = process.env.CHAT_REDIS?.trim();
let programs;
try {
  programs = findServices(process.env, [...(givenDb ? [] : ['pgBin']), ...(givenRedis ? [] : ['redisServer']), 'haproxy']);
} catch (error) {
  log(error.message);
  process.exit(1);
}

// The servers import @chat/sdk/protocol from the SDK's build.
if (!existsSync(join(root, 'packages/chat-sdk/dist/protocol/index.js'))) {
  log('building @chat/sdk …');
  if (spawnSync('npm', ['run', 'build', '-w', '@chat/sdk'], { cwd: root, stdio: ['ignore', 2, 2] }).status !== 0) {
    log('npm run build -w @chat/sdk failed (its output is above)');
    process.exit(1);
  }
}

// The balancer's port, tried before anything starts: HAProxy binds with SO_REUSEPORT, so a
// port another program holds would look taken by HAProxy itself until it gave up.
const portError = await new Promise((resolve) => {
  const probe = createServer();
  probe.once('error', resolve);
  probe.listen(port, host, () => probe.close(() => resolve(null)));
});
if (portError) {
  const taken = portError.code === 'EADDRINUSE';
  log(taken ? `port ${port} on ${host} is taken (the balancer's); set PORT to a free port` : `cannot listen on ${host}:${port} (the balancer's): ${portError.message}; set HOST and PORT`);
  process.exit(1);
}

// 1. PostgreSQL and Redis (throwaway unless given), and the shared upload folder.
let dbUrl = givenDb;
let redisUrl = givenRedis;
try {
  if (!dbUrl) {
    started.postgresStarting = startPostgres({ fsync: false, ownProcessGroup: true });
    started.postgres = await started.postgresStarting;
    dbUrl = started.postgres.url;
  }
  if (!redisUrl) {
    await unlessStopping();
    started.redisStarting = startRedis({ ownProcessGroup: true });
    started.redis = await started.redisStarting;
    redisUrl = started.redis.url;
  }
} catch (error) {
  await fail(`cannot start ${dbUrl ? 'Redis' : 'PostgreSQL'}: ${error.message}`);
}
const uploadsDir = process.env.CHAT_UPLOADS_DIR?.trim() || (started.uploadsDir = mkdtempSync(join(tmpdir(), 'chat-cluster-uploads-')));

// 2. The servers. The first alone, so that it migrates and seeds a new database; then the
//    others (they find it migrated and seeded). Each on its own free loopback port.
function startServer(index) {
  return new Promise((resolve, reject) => {
    freePort().then((serverPort) => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--dev'], {
        cwd: join(root, 'examples/mock-server'),
        env: { ...process.env, HOST: '127.0.0.1', PORT: String(serverPort), CHAT_DB: dbUrl, CHAT_REDIS: redisUrl, CHAT_UPLOADS_DIR: uploadsDir, CHAT_TRUST_PROXY: 'on' },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // see stop(): Ctrl-C reaches this script only
      });
      started.servers[index] = child;
      let ready = false;
      let lastLine = '';
      child.stderr.setEncoding('utf8').on('data', (chunk) => {
        for (const line of chunk.split('\n').filter(Boolean)) {
          lastLine = line;
          process.stderr.write(`[s${index + 1}] ${line}\n`);
        }
      });
      child.stdout.setEncoding('utf8').on('data', (chunk) => {
        if (!ready && chunk.includes('listening on ')) {
          ready = true;
          resolve({ port: serverPort, pid: child.pid });
        }
      });
      child.on('exit', (code, signal) => {
        if (!ready) return reject(new Error(lastLine || `exit ${code ?? signal}`));
        // A server dying is what the balancer is for: say so and keep the others serving.
        if (!stopping) log(`server s${index + 1} (pid ${child.pid}) stopped (${signal ?? `exit ${code}`}); the balancer moves its clients to the others`);
      });
    }, reject);
  });
}
const backends = [];
try {
  await unlessStopping();
  backends.push(await startServer(0));
  await unlessStopping();
  backends.push(...(await Promise.all(Array.from({ length: SERVERS - 1 }, (_, i) => startServer(i + 1)))));
} catch (error) {
  await fail(`a server process did not start: ${error.message}`);
}

// 3. The balancer in front.
await unlessStopping();
const bindHost = host.includes(':') ? `[${host}]` : host;
const lbPort = port === 0 ? await freePort() : port;
const haproxyEnv = { ...process.env, CLUSTER_BIND: `${bindHost}:${lbPort}` };
backends.forEach((backend, i) => (haproxyEnv[`BACKEND_${i + 1}`] = `127.0.0.1:${backend.port}`));
const haproxy = (started.haproxy = spawn(programs.haproxy, ['-db', '-f', haproxyConfig], { env: haproxyEnv, stdio: ['ignore', 'ignore', 'pipe'], detached: true }));
let haproxyOutput = '';
haproxy.stderr.setEncoding('utf8').on('data', (chunk) => (haproxyOutput = (haproxyOutput + chunk).slice(-4000)));
let balancing = false;
haproxy.on('exit', (code, signal) => {
  if (balancing && !stopping) void fail(`haproxy stopped (${signal ?? `exit ${code}`}): ${lastAlert(haproxyOutput)}`);
});
try {
  await waitForPort(lbPort, 10_000, () => isRunning(haproxy));
  balancing = true;
} catch {
  const taken = /cannot bind socket|Address already in use/i.test(haproxyOutput);
  await fail(taken ? `port ${lbPort} on ${host} is taken (the balancer's); set PORT to a free port` : `haproxy did not start: ${lastAlert(haproxyOutput)}`);
}

function lastAlert(output) {
  const lines = output.trim().split('\n').filter(Boolean);
  return (lines.findLast((line) => line.includes('[ALERT]')) ?? lines.at(-1) ?? 'no output').trim();
}

const shown = host === '0.0.0.0' ? '127.0.0.1' : bindHost;
const pids = [
  ...(started.postgres ? [`postgres ${started.postgres.pid()}`] : []),
  ...(started.redis ? [`redis ${started.redis.pid()}`] : []),
  `haproxy ${haproxy.pid}`,
  ...backends.map((b, i) => `s${i + 1} ${b.pid}`),
];
process.stdout.write(
  [
    '',
    `Chat cluster ready: ws://${shown}:${lbPort}/ws (HAProxy in front of ${SERVERS} server processes)`,
    ...backends.map((b, i) => `  s${i + 1}: http://127.0.0.1:${b.port} (pid ${b.pid})`),
    `  PostgreSQL: ${dbUrl.replace(/:[^:@/]*@/, ':***@')}${started.postgres ? ' (throwaway, deleted on exit)' : ''}`,
    `  Redis: ${redisUrl.replace(/:[^:@/]*@/, ':***@')}${started.redis ? ' (throwaway)' : ''}`,
    `  uploads: ${uploadsDir}${started.uploadsDir ? ' (deleted on exit)' : ''}`,
    `  pids: ${pids.join(', ')}`,
    `Demo app against it: npm run dev -w @chat/demo-app, then open the page with ?server=ws://${shown}:${lbPort}/ws (8787 is its default). Ctrl-C stops all.`,
    '',
  ].join('\n'),
);
