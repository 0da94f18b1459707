export declare const HOW_TO_GET_THEM: string;

export interface ServiceFacts {
  env: Record<string, string | undefined>;
  isExecutable: (path: string) => boolean;
  isRoot: boolean;
  /** The `bin` folders of Debian's PostgreSQL versions, newest first. */
  postgresDirs: string[];
}

export interface ServicePaths {
  pgBin: string;
  redisServer: string;
  haproxy: string;
}

export type ServiceDecision =
  | ({ action: 'use' } & ServicePaths)
  | { action: 'install'; missing: string[] }
  | { action: 'fail'; message: string };

export declare function decideServices(facts: ServiceFacts): ServiceDecision;
/** Each program's path or null; `fail` when an explicit path (PG_BIN, REDIS_SERVER, HAPROXY) is wrong. */
export declare function locateServices(facts: ServiceFacts): { [K in keyof ServicePaths]: string | null } | { fail: string };
export declare function debianPostgresDirs(root?: string): string[];
export declare function currentFacts(env?: Record<string, string | undefined>): ServiceFacts;
/** The programs to run (never installs them); throws a one-line Error saying how to get those in `need` (default all). */
export declare function findServices<K extends keyof ServicePaths = keyof ServicePaths>(
  env?: Record<string, string | undefined>,
  need?: K[],
): Pick<ServicePaths, K> & { [P in Exclude<keyof ServicePaths, K>]: string | null };
export declare function freePort(): Promise<number>;
export declare function waitForPort(port: number, timeoutMs: number, isAlive?: () => boolean): Promise<void>;

export interface RunningPostgres {
  url: string;
  port: number;
  dir: string;
  /** The postmaster's pid (its backends are its children); undefined before the first start. */
  pid(): number | undefined;
  /** `fast` shuts down cleanly; `immediate` is a crash as far as the data goes. The folder is removed. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** A clean shutdown and start on the same port and data. */
  restart(): Promise<void>;
}
/**
 * `ownProcessGroup`: out of the caller's process group, so a terminal's Ctrl-C does not reach it (the caller stops it).
 * `settings`: more server settings (`-c name=value`), e.g. `{ synchronous_commit: 'off' }`.
 */
export declare function startPostgres(options?: { fsync?: boolean; port?: number; ownProcessGroup?: boolean; settings?: Record<string, string> }): Promise<RunningPostgres>;

export interface RunningRedis {
  url: string;
  port: number;
  pid(): number | undefined;
  stop(): Promise<void>;
  /** A kill and start on the same port: everything Redis held is gone, as after a crash. */
  restart(): Promise<void>;
}
export declare function startRedis(options?: { port?: number; ownProcessGroup?: boolean }): Promise<RunningRedis>;
