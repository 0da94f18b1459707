import { AUTH_TIMEOUT_MS, PRESENCE_GRACE_MS, HEARTBEAT_INTERVAL_MS, RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND } from '@chat/sdk/protocol';
import type { LogLevel } from './log.js';
import { DEFAULT_ORIGINS } from './origins.js';

export interface ServerOptions {
  /** TCP port; default 0 (a free port). */
  port?: number;
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /** SQLite file, or ':memory:' (the default) for a database that keeps nothing; 'memory' means storage: 'memory'. */
  db?: string;
  /** 'memory' keeps plain maps instead of SQLite; default 'sqlite' (on `db`). */
  storage?: 'memory' | 'sqlite';
  /** HS256 secret for JWT logins; default none (JWTs refused). */
  jwtSecret?: string;
  /** Allowed browser origins (patterns); default http://localhost:* and http://127.0.0.1:*. */
  origins?: string[];
  /** Development email sign-in; default on only when `host` is a loopback address. */
  emailLogin?: boolean;
  /** Base of upload urls (e.g. https://chat.example.com); default the request's Host. */
  publicUrl?: string;
  /** Session lifetime; default 30 days. */
  sessionTtlMs?: number;
  /** Default 'silent'. */
  logLevel?: LogLevel;
  /** Close an unauthenticated connection (4408) after this long; default 10 s. */
  authTimeoutMs?: number;
  /** WebSocket ping period; two missed pongs in a row terminate; default 30 s. */
  heartbeatIntervalMs?: number;
  /** Token bucket per connection; default 30 a second, bursts of 60. */
  rateLimit?: { perSecond: number; burst: number };
  /** Send buffer past which a connection is closed with 1013; default 4 MiB. */
  maxBufferedBytes?: number;
  /** How long after a user's last connection closed they are announced offline (a reload stays online); default 5 s. */
  presenceGraceMs?: number;
  /** Seed the sample people, rooms and messages (src/sample.ts) when the database has no users; default false. */
  sample?: boolean;
}

export const DEFAULT_SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface ResolvedOptions {
  port: number;
  host: string;
  db: string;
  storage: 'memory' | 'sqlite';
  jwtSecret: string | undefined;
  origins: string[];
  emailLogin: boolean;
  publicUrl: string | undefined;
  sessionTtlMs: number;
  logLevel: LogLevel;
  authTimeoutMs: number;
  heartbeatIntervalMs: number;
  rateLimit: { perSecond: number; burst: number };
  maxBufferedBytes: number;
  presenceGraceMs: number;
  sample: boolean;
}

export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

export function resolveOptions(options: ServerOptions = {}): ResolvedOptions {
  const host = options.host ?? '127.0.0.1';
  const rateLimit = options.rateLimit ?? { perSecond: RATE_LIMIT_PER_SECOND, burst: RATE_LIMIT_BURST };
  if (!(rateLimit.perSecond > 0) || !(rateLimit.burst >= 1)) throw new TypeError('rateLimit needs perSecond > 0 and burst >= 1');
  return {
    port: options.port ?? 0,
    host,
    db: options.db ?? ':memory:',
    storage: options.storage ?? (options.db === 'memory' ? 'memory' : 'sqlite'),
    jwtSecret: options.jwtSecret || undefined,
    origins: options.origins ?? [...DEFAULT_ORIGINS],
    emailLogin: options.emailLogin ?? isLoopbackHost(host),
    publicUrl: options.publicUrl?.replace(/\/+$/, '') || undefined,
    sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    logLevel: options.logLevel ?? 'silent',
    authTimeoutMs: options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    rateLimit,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    presenceGraceMs: options.presenceGraceMs ?? PRESENCE_GRACE_MS,
    sample: options.sample ?? false,
  };
}
