// `node --test test/support/services.test.mjs` (part of `npm test`, after
// scripts/ensure-services.mjs): where PostgreSQL, Redis and HAProxy come from, the one line printed
// when they cannot be had, and that the throwaway servers really serve.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { HOW_TO_GET_THEM, decideServices, findServices, startPostgres, startRedis } from './services.mjs';

const machine = (executables, { env = {}, isRoot = false, postgresDirs = [] } = {}) => ({
  env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...env },
  isExecutable: (path) => executables.includes(path),
  isRoot,
  postgresDirs,
});
const PG16 = ['/usr/lib/postgresql/16/bin/initdb', '/usr/lib/postgresql/16/bin/postgres'];
const PG15 = ['/usr/lib/postgresql/15/bin/initdb', '/usr/lib/postgresql/15/bin/postgres'];
const debianDirs = { postgresDirs: ['/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'] };

const REDIS_AND_HAPROXY = ['/usr/bin/redis-server', '/usr/sbin/haproxy'];

test("Debian's newest PostgreSQL, its redis-server and haproxy are used; explicit paths win and fail clearly", () => {
  assert.deepEqual(decideServices(machine([...PG15, ...PG16, ...REDIS_AND_HAPROXY], debianDirs)), {
    action: 'use', pgBin: '/usr/lib/postgresql/16/bin', redisServer: '/usr/bin/redis-server', haproxy: '/usr/sbin/haproxy',
  });
  const explicit = machine(['/opt/pg/initdb', '/opt/pg/postgres', '/opt/redis', '/opt/haproxy', ...PG16, ...REDIS_AND_HAPROXY], {
    ...debianDirs, env: { PG_BIN: '/opt/pg', REDIS_SERVER: '/opt/redis', HAPROXY: '/opt/haproxy' },
  });
  assert.deepEqual(decideServices(explicit), { action: 'use', pgBin: '/opt/pg', redisServer: '/opt/redis', haproxy: '/opt/haproxy' });
  const broken = decideServices(machine([...PG16, ...REDIS_AND_HAPROXY, '/usr/bin/apt-get'], { ...debianDirs, env: { PG_BIN: '/nowhere' }, isRoot: true }));
  assert.equal(broken.action, 'fail'); // never falls back, never installs
  assert.match(broken.message, /^PG_BIN=\/nowhere holds no initdb/);
  const noHaproxy = decideServices(machine([...PG16, ...REDIS_AND_HAPROXY], { ...debianDirs, env: { HAPROXY: '/nowhere' } }));
  assert.deepEqual(noHaproxy, { action: 'fail', message: 'HAPROXY=/nowhere is not an executable file; point it at haproxy or unset it' });
  // haproxy outside /usr/sbin is found on PATH.
  assert.equal(decideServices(machine([...PG16, '/usr/bin/redis-server', '/usr/local/bin/haproxy'], debianDirs)).haproxy, '/usr/local/bin/haproxy');
});

test('missing: as root with apt-get only what is missing is installed, else one line saying how', () => {
  assert.deepEqual(decideServices(machine([...PG15, '/usr/sbin/haproxy', '/usr/bin/apt-get'], { ...debianDirs, isRoot: true })), { action: 'install', missing: ['redis-server'] });
  assert.deepEqual(decideServices(machine([...PG15, '/usr/bin/redis-server', '/usr/bin/apt-get'], { ...debianDirs, isRoot: true })), { action: 'install', missing: ['haproxy'] });
  assert.deepEqual(decideServices(machine(['/usr/bin/apt-get'], { isRoot: true })), { action: 'install', missing: ['postgresql', 'redis-server', 'haproxy'] });
  for (const decision of [decideServices(machine(['/usr/bin/apt-get'])), decideServices(machine([], { isRoot: true }))]) {
    assert.deepEqual(decision, { action: 'fail', message: HOW_TO_GET_THEM });
  }
  assert.doesNotMatch(HOW_TO_GET_THEM, /\n/);
});

test('a throwaway PostgreSQL answers SQL, and its data outlives a restart', async () => {
  const pg = await startPostgres();
  try {
    const psql = (sql) => {
      const result = spawnSync(join(findServices(process.env, ['pgBin']).pgBin, 'psql'), [pg.url, '-tAc', sql], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      return result.stdout.trim();
    };
    psql('CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)');
    await pg.restart();
    assert.equal(psql('SELECT n FROM kept'), '42');
  } finally {
    await pg.stop();
  }
});

test('a throwaway Redis answers PING, and comes back empty after a restart', async () => {
  const redis = await startRedis();
  const send = (command) =>
    new Promise((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port: redis.port });
      socket.once('error', reject);
      socket.once('data', (data) => { socket.destroy(); resolve(data.toString()); });
      socket.write(command);
    });
  try {
    assert.equal(await send('PING\r\n'), '+PONG\r\n');
    assert.equal(await send('SET k v\r\n'), '+OK\r\n');
    await redis.restart();
    assert.equal(await send('GET k\r\n'), '$-1\r\n');
  } finally {
    await redis.stop();
  }
});
