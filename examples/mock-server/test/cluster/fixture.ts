import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type RunningRedis } from '../../../../test/support/services.mjs';
import { startServer, TEST_SERVER_OPTIONS, type RunningServer, type ServerOptions } from '../../src/index.js';
import { PostgresDatabases } from '../postgres-databases.js';
import { TestClient, type SignedIn } from '../helpers.js';
import { ServerProcess } from './server-process.js';

/**
 * One PostgreSQL and one Redis for a test file, a new database per cluster, and everything a
 * test starts (servers, spawned processes, clients) stopped after it: processes of one test
 * must not outlive it, since they share this Redis and would clean up after the next test's.
 */
export function clusterFixture(prefix: string) {
  let databases: PostgresDatabases;
  let redis: RunningRedis;
  const servers = new Set<RunningServer>();
  const processes = new Set<ServerProcess>();
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    [databases, redis] = await Promise.all([PostgresDatabases.start(prefix), startRedis()]);
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await Promise.all([...processes].map((p) => p.kill()));
    processes.clear();
    await Promise.all([...servers].map((server) => server.close()));
    servers.clear();
  });
  afterAll(async () => {
    await Promise.all([databases?.stop(), redis?.stop()]);
  });

  const fixture = {
    get databases(): PostgresDatabases {
      return databases;
    },
    get redis(): RunningRedis {
      return redis;
    },
    /** An in-process server with the test settings, closed after the test. */
    async start(options: ServerOptions): Promise<RunningServer> {
      const server = await startServer({ ...TEST_SERVER_OPTIONS, ...options, limits: { ...TEST_SERVER_OPTIONS.limits, ...options.limits } });
      servers.add(server);
      return server;
    },
    /** `n` servers on one new database (or `db`) and this Redis; the first migrates, the others find it migrated. */
    async cluster(n: number, options: ServerOptions = {}, db?: string): Promise<RunningServer[]> {
      const url = db ?? (await databases.create());
      const started: RunningServer[] = [];
      for (let i = 0; i < n; i++) started.push(await fixture.start({ ...options, db: url, redis: redis.url }));
      return started;
    },
    /** A spawned `src/main.ts`, killed after the test. */
    async spawn(env: Record<string, string>): Promise<ServerProcess> {
      const process = await ServerProcess.start(env);
      processes.add(process);
      return process;
    },
    /** Closed after the test. */
    track<T extends TestClient | SignedIn>(value: T): T {
      const client = value instanceof TestClient ? value : value.client;
      cleanups.push(() => client.close());
      return value;
    },
    /** Runs after the test, before the servers stop. */
    cleanup(work: () => unknown): void {
      cleanups.push(work);
    },
  };
  return fixture;
}
