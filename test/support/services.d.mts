export declare const HOW_TO_GET_THEM: string;

export interface ServiceFacts {
  env: Record<string, string | undefined>;
  isExecutable: (path: string) => boolean;
  isRoot: boolean;
  /** The `bin` folders of Debian's PostgreSQL versions, newest first. */
  postgresDirs: string[];
}

export type ServiceDecision =
  | { action: 'use'; pgBin: string; redisServer: string }
  | { action: 'install'; missing: string[] }
  | { action: 'fail'; message: string };

export declare function decideServices(facts: ServiceFacts): ServiceDecision;
export declare function debianPostgresDirs(root?: string): string[];
export declare function currentFacts(env?: Record<string, string | undefined>): ServiceFacts;
/** The programs to run (never installs them); throws a one-line Error saying how to get them. */
export declare function findServices(env?: Record<string, string | undefined>): { action: 'use'; pgBin: string; redisServer: string };
export declare function freePort(): Promise<number>;
export declare function waitForPort(port: number, timeoutMs: number, isAlive?: () => boolean): Promise<void>;

export interface RunningPostgres {
  url: string;
  port: number;
  dir: string;
  /** `fast` shuts down cleanly; `immediate` is a crash as far as the data goes. The folder is removed. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** A clean shutdown and start on the same port and data. */
  restart(): Promise<void>;
}
export declare function startPostgres(options?: { fsync?: boolean; port?: number }): Promise<RunningPostgres>;

export interface RunningRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** A kill and start on the same port: everything Redis held is gone, as after a crash. */
  restart(): Promise<void>;
}
export declare function startRedis(options?: { port?: number }): Promise<RunningRedis>;
