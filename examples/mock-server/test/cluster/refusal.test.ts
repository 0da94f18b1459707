// A PostgreSQL database is served by one process without Redis, or by any number with it,
// never both: a process whose events could not reach the others' clients refuses to start,
// in one line that says why. Processes here are spawned (src/main.ts) where the line on
// stderr or a SIGKILL matters, in-process otherwise.
import { expect, test } from 'vitest';
import { clusterFixture } from './fixture.js';
import { ServerProcess } from './server-process.js';

const fixture = clusterFixture('chat_refusal');
const server = (db: string, withRedis: boolean) => fixture.start({ db, ...(withRedis ? { redis: fixture.redis.url } : {}) });

test('a second process without Redis on the same database refuses to start, in one line saying why', async () => {
  const db = await fixture.databases.create();
  await server(db, false);
  const { code, stderr } = await ServerProcess.refused({ CHAT_DB: db });
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/another server process is serving this PostgreSQL database.*would never reach its clients.*CHAT_REDIS/);
});

test('with Redis and without never share a database, whichever starts first', async () => {
  const first = await fixture.databases.create();
  await server(first, false);
  await expect(server(first, true)).rejects.toThrow(/a server process without CHAT_REDIS is serving this PostgreSQL database/);

  const second = await fixture.databases.create();
  await server(second, true);
  await server(second, true); // any number with Redis
  await expect(server(second, false)).rejects.toThrow(/another server process is serving this PostgreSQL database/);
});

test('the lock goes with its process: after a SIGKILL or a stop, a process of the other kind starts', async () => {
  const db = await fixture.databases.create();
  const killed = await fixture.spawn({ CHAT_DB: db, CHAT_REDIS: fixture.redis.url });
  await expect(server(db, false)).rejects.toThrow(/without CHAT_REDIS is serving|another server process/);
  await killed.kill();
  const alone = await server(db, false);
  await alone.close(); // closing twice (again after the test) is safe
  await server(db, true);
});

test('a server on another database, or on SQLite, is not held back', async () => {
  await server(await fixture.databases.create(), false);
  await server(await fixture.databases.create(), false);
  await server(':memory:', false);
});
