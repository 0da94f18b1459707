import { AUTH_TIMEOUT_MS, PRESENCE_GRACE_MS, HEARTBEAT_INTERVAL_MS, RATE_LIMIT_BURST, RATE_LIMIT_PER_SECOND } from '@chat/sdk/protocol';
import type { LogLevel } from './log.js';
import { DEFAULT_ORIGINS } from './origins.js';

export interface ServerOptions {
  /** TCP port; default 0 (a free port). */
  port?: number;
  /** Interface to listen on; default '127.0.0.1'. */
  host?: string;
  /**
   * SQLite file, or ':memory:' (the default) for a database that keeps nothing; 'memory' means storage: 'memory';
   * a `postgres://` (or `postgresql://`) url selects the PostgreSQL store (several processes on one database need `redis`).
   */
  db?: string;
  /**
   * `redis://…`: every event and session close is also published on Redis pub/sub and
   * delivered by every process to its own connections (N processes over one PostgreSQL
   * database; docs/scale-out.md). Default none: events reach this process's connections only.
   */
  redis?: string;
  /**
   * With `redis`: how long after its last heartbeat a process stops counting (its users go
   * offline unless another process holds them; its connections leave the shared caps).
   * Heartbeats go every third of it. Default 10 s.
   */
  processTtlMs?: number;
  /** 'memory' keeps plain maps instead of SQLite; default 'sqlite' (on `db`). */
  storage?: 'memory' | 'sqlite';
  /** Folder of the upload files; default `<db>.uploads` next to a SQLite file, else a temporary folder removed at close. */
  uploadsDir?: string;
  /** HS256 secret for JWT logins; default none (JWTs refused). */
  jwtSecret?: string;
  /** Allowed browser origins (patterns); default http://localhost:* and http://127.0.0.1:*. */
  origins?: string[];
  /** Development email sign-in (anyone can sign in as anyone by email); default off. Tests pass `true`. */
  emailLogin?: boolean;
  /** `create_user` open to anyone ('open', the default) or refused FORBIDDEN ('closed'). */
  signup?: 'open' | 'closed';
  /** Show every user's email to every signed-in user; default false (others' `email` is ''). */
  showEmails?: boolean;
  /** Take the client's address from the last `X-Forwarded-For` entry (behind a reverse proxy); default false. */
  trustProxy?: boolean;
  /** Base of upload urls (e.g. https://chat.example.com); default none: urls are relative (`/uploads/ID`). */
  publicUrl?: string;
  /** Per-user and per-address limits across connections (see docs/security.md); each defaults as documented. */
  limits?: Partial<LimitSettings>;
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
  /** Bytes held for one connection (unsent frames, in the process and the socket) past which it is closed with 1013; default 4 MiB. */
  maxBufferedBytes?: number;
  /** How long after a user's last connection closed they are announced offline (a reload stays online); default 5 s. */
  presenceGraceMs?: number;
  /** Seed the sample people, rooms and messages (src/sample.ts) when the database has no users; default false. */
  sample?: boolean;
  /**
   * The retry hint a shutdown sends in its 1001 close (protocol section 9): how long the
   * server expects to be away, so clients come back then, spread over as long again,
   * instead of retrying into a closed port. Default 1 s; 0 sends no hint.
   */
  restartRetryAfterMs?: number;
}

/** A token bucket: `perSecond` refill, at most `burst` held. */
export interface Rate {
  perSecond: number;
  burst: number;
}

/** The limits that hold across connections, per user and per address (docs/security.md). */
export interface LimitSettings {
  /** Open authenticated connections of one user; the next is refused RATE_LIMITED and closed 1013. Default 20. */
  connectionsPerUser: number;
  /** Open connections from one address; the next is closed 1013 at once. Default 100. */
  connectionsPerIp: number;
  /**
   * New sockets from one address (open or not by now): past it a socket is closed 1013 with a
   * retry hint, so one address cannot use up the process's `serverAccepts` by opening and
   * closing sockets. Default 20/s, bursts of 100 (the open-connection cap).
   */
  ipAccepts: Rate;
  /**
   * New sockets the process takes, from everyone (admission.ts): a crowd arriving together
   * past it is closed 1013 with a retry window as wide as the queue, so it comes back at
   * this rate instead of all signing in and catching up at once. Default 1,000/s, bursts of 1,000.
   */
  serverAccepts: Rate;
  /** Requests of one user over all its connections. Default twice `rateLimit` (60/s, bursts of 120). */
  userRequests: Rate;
  /** Requests from one address over all its connections. Default ten times `rateLimit`. */
  ipRequests: Rate;
  /** `create_message` of one user. Default two thirds of `rateLimit` (20/s), bursts of `rateLimit.burst` (60). */
  userMessages: Rate;
  /** Reply and event bytes sent to one user's connections: a request is refused while the user is in debt. Default 1 MiB/s, bursts of 2 MiB (one largest history page). */
  userBytes: Rate;
  /** Reply bytes sent to one address (all its users). Default 4 MiB/s, bursts of 4 MiB. */
  ipBytes: Rate;
  /** Reply bytes of the whole server: while in debt, the requests that can answer big pages (history, changes, directory, room list) wait; others do not. Default 16 MiB/s, bursts of 8 MiB. */
  serverBytes: Rate;
  /** `typing` frames from one address (all its users; each user also has 2/s, bursts of 10). Default 20/s, bursts of 40. */
  ipTyping: Rate;
  /** `create_user` from one address. Default 20 an hour (bursts of 20). */
  signupsPerIp: Rate;
  /** `create_room` of one user. Default 60 an hour (bursts of 60). */
  roomsPerUser: Rate;
  /** Members a room may hold. Default 100 (the creator and 99 others, the protocol's create_room cap). */
  maxRoomMembers: number;
  /** Upload bytes one user may store in a day (rolling bucket). Default 100 MiB. */
  uploadBytesPerDay: number;
  /** Upload bytes one user may hold in all. Default 1 GiB. */
  uploadBytesTotal: number;
  /** Uploads of one user in progress at once. Default 3. */
  concurrentUploads: number;
  /** An upload no message uses is deleted this long after it was made. Default 24 h. */
  orphanUploadTtlMs: number;
  /** Bytes the process holds for all connections' unsent frames together; past it the connection holding most is closed 1013. Default 64 MiB. */
  maxHeldBytes: number;
}

export const DEFAULT_SESSION_TTL_MS = 30 * 24 * 60 * 60 * 1000;
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
const MIB = 1024 * 1024;
const HOUR = 3600;

export function resolveLimits(given: Partial<LimitSettings>, rateLimit: Rate): LimitSettings {
  const limits: LimitSettings = {
    connectionsPerUser: given.connectionsPerUser ?? 20,
    connectionsPerIp: given.connectionsPerIp ?? 100,
    ipAccepts: given.ipAccepts ?? { perSecond: 20, burst: 100 },
    serverAccepts: given.serverAccepts ?? { perSecond: 1000, burst: 1000 },
    userRequests: given.userRequests ?? { perSecond: rateLimit.perSecond * 2, burst: rateLimit.burst * 2 },
    ipRequests: given.ipRequests ?? { perSecond: rateLimit.perSecond * 10, burst: rateLimit.burst * 10 },
    userMessages: given.userMessages ?? { perSecond: (rateLimit.perSecond * 2) / 3, burst: rateLimit.burst },
    userBytes: given.userBytes ?? { perSecond: MIB, burst: 2 * MIB },
    ipBytes: given.ipBytes ?? { perSecond: 4 * MIB, burst: 4 * MIB },
    serverBytes: given.serverBytes ?? { perSecond: 16 * MIB, burst: 8 * MIB },
    ipTyping: given.ipTyping ?? { perSecond: 20, burst: 40 },
    signupsPerIp: given.signupsPerIp ?? { perSecond: 20 / HOUR, burst: 20 },
    roomsPerUser: given.roomsPerUser ?? { perSecond: 60 / HOUR, burst: 60 },
    maxRoomMembers: given.maxRoomMembers ?? 100,
    uploadBytesPerDay: given.uploadBytesPerDay ?? 100 * MIB,
    uploadBytesTotal: given.uploadBytesTotal ?? 1024 * MIB,
    concurrentUploads: given.concurrentUploads ?? 3,
    orphanUploadTtlMs: given.orphanUploadTtlMs ?? 24 * HOUR * 1000,
    maxHeldBytes: given.maxHeldBytes ?? 64 * MIB,
  };
  for (const [name, value] of Object.entries(limits)) {
    const ok = typeof value === 'number' ? value > 0 : value.perSecond > 0 && value.burst >= 1;
    if (!ok) throw new TypeError(`limits.${name} must be positive`);
  }
  return limits;
}

/** A process's liveness in Redis outlasts this many ms without a heartbeat (three are missed). */
export const DEFAULT_PROCESS_TTL_MS = 10_000;

export interface ResolvedOptions {
  port: number;
  host: string;
  db: string;
  redis: string | undefined;
  processTtlMs: number;
  storage: 'memory' | 'sqlite';
  uploadsDir: string | undefined;
  jwtSecret: string | undefined;
  origins: string[];
  emailLogin: boolean;
  signup: 'open' | 'closed';
  showEmails: boolean;
  trustProxy: boolean;
  publicUrl: string | undefined;
  limits: LimitSettings;
  sessionTtlMs: number;
  logLevel: LogLevel;
  authTimeoutMs: number;
  heartbeatIntervalMs: number;
  rateLimit: { perSecond: number; burst: number };
  maxBufferedBytes: number;
  presenceGraceMs: number;
  sample: boolean;
  restartRetryAfterMs: number;
}

/** A restart of the reference server (SQLite open, listen) takes well under a second. */
export const DEFAULT_RESTART_RETRY_AFTER_MS = 1000;

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
    redis: options.redis || undefined,
    processTtlMs: options.processTtlMs ?? DEFAULT_PROCESS_TTL_MS,
    storage: options.storage ?? (options.db === 'memory' ? 'memory' : 'sqlite'),
    uploadsDir: options.uploadsDir || undefined,
    jwtSecret: options.jwtSecret || undefined,
    origins: options.origins ?? [...DEFAULT_ORIGINS],
    emailLogin: options.emailLogin ?? false,
    signup: options.signup ?? 'open',
    showEmails: options.showEmails ?? false,
    trustProxy: options.trustProxy ?? false,
    limits: resolveLimits(options.limits ?? {}, rateLimit),
    publicUrl: options.publicUrl?.replace(/\/+$/, '') || undefined,
    sessionTtlMs: options.sessionTtlMs ?? DEFAULT_SESSION_TTL_MS,
    logLevel: options.logLevel ?? 'silent',
    authTimeoutMs: options.authTimeoutMs ?? AUTH_TIMEOUT_MS,
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
    rateLimit,
    maxBufferedBytes: options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES,
    presenceGraceMs: options.presenceGraceMs ?? PRESENCE_GRACE_MS,
    sample: options.sample ?? false,
    restartRetryAfterMs: options.restartRetryAfterMs ?? DEFAULT_RESTART_RETRY_AFTER_MS,
  };
}

/**
 * What this repository's own test suites start servers with: email sign-in on, no restart hint, and the
 * sign-up, room-creation and new-socket limits per address and per user out of the way, since every
 * test client signs up many people from 127.0.0.1. Never a deployment's settings.
 */
export const TEST_SERVER_OPTIONS: Readonly<ServerOptions> = Object.freeze({
  emailLogin: true,
  // Tests restart servers all the time and their clients retry within milliseconds; a test
  // about the hint sets one.
  restartRetryAfterMs: 0,
  limits: {
    signupsPerIp: { perSecond: 10_000, burst: 100_000 },
    roomsPerUser: { perSecond: 10_000, burst: 100_000 },
    // Every test client connects from 127.0.0.1, a suite opens thousands of sockets, and
    // benches open their crowds at once; a test about admission sets its own.
    ipAccepts: { perSecond: 100_000, burst: 100_000 },
    serverAccepts: { perSecond: 100_000, burst: 100_000 },
  },
});
