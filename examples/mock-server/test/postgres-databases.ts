import pg from 'pg';
import { startPostgres, type RunningPostgres } from '../../../test/support/services.mjs';

/**
 * A throwaway PostgreSQL for one test file (test/support/services.mjs) and a new, empty
 * database of its own for each test that asks; a server migrates it at start.
 */
export class PostgresDatabases {
  private count = 0;

  private constructor(
    readonly postgres: RunningPostgres,
    private readonly admin: pg.Pool,
    private readonly prefix: string,
  ) {}

  static async start(prefix: string): Promise<PostgresDatabases> {
    const postgres = await startPostgres({ fsync: false });
    const admin = new pg.Pool({ connectionString: postgres.url, max: 2 });
    admin.on('error', () => {}); // a restart of the server under test must not crash the runner
    return new PostgresDatabases(postgres, admin, prefix);
  }

  /** The url of a new, empty database. */
  async create(): Promise<string> {
    const name = `${this.prefix}_${++this.count}`;
    await this.admin.query(`CREATE DATABASE ${name} TEMPLATE template0`);
    return this.postgres.url.replace(/\/postgres$/, `/${name}`);
  }

  async stop(): Promise<void> {
    await this.admin.end();
    await this.postgres.stop();
  }
}
