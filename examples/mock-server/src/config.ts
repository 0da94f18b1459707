import { fileURLToPath } from 'node:url';
import { isLogLevel } from './log.js';
import { DEFAULT_RESTART_RETRY_AFTER_MS, DEFAULT_SESSION_TTL_MS, type LimitSettings, type Rate, type ServerOptions } from './options.js';
import { DEFAULT_ORIGINS } from './origins.js';

/** `.data/chat.sqlite` inside examples/mock-server, wherever the process was started. */
export const DEFAULT_DB_FILE = fileURLToPath(new URL('../.data/chat.sqlite', import.meta.url));

export type Env = Record<string, string | undefined>;

/**
 * Reads the environment into server options (see docs/server.md). Throws a TypeError
 * naming the variable when a value cannot be read, so a typo never starts a server with
 * a setting nobody asked for.
 */
export function optionsFromEnv(
  env: Env = process.env,
  { development = false }: { development?: boolean } = {},
): ServerOptions & Required<Pick<ServerOptions, 'port' | 'host' | 'db'>> {
  const host = nonEmpty(env.HOST) ?? '127.0.0.1';
  const options: ServerOptions & Required<Pick<ServerOptions, 'port' | 'host' | 'db'>> = {
    port: parsePort(env.PORT),
    host,
    db: nonEmpty(env.CHAT_DB) ?? DEFAULT_DB_FILE,
    origins: env.CHAT_ORIGINS === undefined ? [...DEFAULT_ORIGINS] : parseList(env.CHAT_ORIGINS),
    // Email sign-in lets anyone sign in as anyone: only when asked for, or in development
    // mode (`npm start`, `npm run server` pass --dev). Never inferred from HOST: a server
    // behind a reverse proxy listens on loopback too.
    emailLogin: nonEmpty(env.CHAT_EMAIL_LOGIN) === undefined ? development : parseSwitch('CHAT_EMAIL_LOGIN', env.CHAT_EMAIL_LOGIN!),
    signup: parseSignup(env.CHAT_SIGNUP),
    showEmails: nonEmpty(env.CHAT_SHOW_EMAILS) === undefined ? false : parseSwitch('CHAT_SHOW_EMAILS', env.CHAT_SHOW_EMAILS!),
    trustProxy: nonEmpty(env.CHAT_TRUST_PROXY) === undefined ? false : parseSwitch('CHAT_TRUST_PROXY', env.CHAT_TRUST_PROXY!),
    limits: limitsFromEnv(env),
    sessionTtlMs: env.CHAT_SESSION_TTL === undefined || env.CHAT_SESSION_TTL.trim() === '' ? DEFAULT_SESSION_TTL_MS : parseDuration('CHAT_SESSION_TTL', env.CHAT_SESSION_TTL),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    // A fresh database gets the sample people and rooms (src/sample.ts) unless CHAT_SAMPLE=off.
    sample: env.CHAT_SAMPLE === undefined || env.CHAT_SAMPLE.trim() === '' ? true : parseSwitch('CHAT_SAMPLE', env.CHAT_SAMPLE),
    // The hint clients get in the close of a shutdown (protocol section 9); 0 sends none.
    restartRetryAfterMs: parseMillis('CHAT_RESTART_RETRY_AFTER_MS', env.CHAT_RESTART_RETRY_AFTER_MS, DEFAULT_RESTART_RETRY_AFTER_MS),
  };
  // CHAT_DB=postgres://… (or postgresql://) selects the PostgreSQL store (openAsyncStorage);
  // several such processes on one database need CHAT_REDIS (docs/scale-out.md).
  // CHAT_REDIS=redis://… carries events between processes (docs/scale-out.md).
  const redis = nonEmpty(env.CHAT_REDIS);
  if (redis !== undefined) options.redis = parseRedisUrl(redis);
  const processTtl = nonEmpty(env.CHAT_PROCESS_TTL);
  if (processTtl !== undefined) options.processTtlMs = parseDuration('CHAT_PROCESS_TTL', processTtl);
  const secret = nonEmpty(env.CHAT_JWT_SECRET);
  if (secret !== undefined) options.jwtSecret = secret;
  const uploadsDir = nonEmpty(env.CHAT_UPLOADS_DIR);
  if (uploadsDir !== undefined) options.uploadsDir = uploadsDir;
  const publicUrl = nonEmpty(env.CHAT_PUBLIC_URL);
  if (publicUrl !== undefined) options.publicUrl = parsePublicUrl(publicUrl);
  return options;
}

function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`CHAT_REDIS must be a redis:// or rediss:// url, got "${value}"`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new TypeError(`CHAT_REDIS must be a redis:// or rediss:// url, got "${value}"`);
  return value;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

function parsePort(value: string | undefined): number {
  if (nonEmpty(value) === undefined) return 8787;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new TypeError(`PORT must be an integer from 0 to 65535, got "${value}"`);
  return port;
}

function parseList(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

export function parseSwitch(name: string, value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(v)) return true;
  if (['off', 'false', '0', 'no'].includes(v)) return false;
  throw new TypeError(`${name} must be on or off, got "${value}"`);
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration: a number of seconds (`3600`), or a number with a unit s, m, h or d (`90m`, `30d`). */
/** Whole milliseconds, 0 to 10 minutes. */
function parseMillis(name: string, value: string | undefined, fallback: number): number {
  const v = nonEmpty(value);
  if (v === undefined) return fallback;
  if (!/^\d{1,6}$/.test(v) || Number(v) > 600_000) throw new TypeError(`${name} must be whole milliseconds from 0 to 600000, got "${value}"`);
  return Number(v);
}

export function parseDuration(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([smhd])?$/i.exec(value.trim());
  const amount = match ? Number(match[1]) : NaN;
  const ms = amount * UNIT_MS[(match?.[2] ?? 's').toLowerCase()]!;
  if (!Number.isFinite(ms) || ms < 1000) throw new TypeError(`${name} must be seconds or a number with s, m, h or d (e.g. 30d), at least 1s; got "${value}"`);
  return Math.round(ms);
}

function parseLogLevel(value: string | undefined): NonNullable<ServerOptions['logLevel']> {
  const level = nonEmpty(value)?.toLowerCase() ?? 'info';
  if (!isLogLevel(level)) throw new TypeError(`LOG_LEVEL must be silent, error, warn, info or debug, got "${value}"`);
  return level;
}

function parsePublicUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(`CHAT_PUBLIC_URL must be an absolute http(s) URL, got "${value}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`CHAT_PUBLIC_URL must be http or https, got "${value}"`);
  return url.href.replace(/\/+$/, '');
}

function parseSignup(value: string | undefined): 'open' | 'closed' {
  const v = nonEmpty(value)?.toLowerCase() ?? 'open';
  if (v !== 'open' && v !== 'closed') throw new TypeError(`CHAT_SIGNUP must be open or closed, got "${value}"`);
  return v;
}

function parseCount(name: string, value: string): number {
  const n = Number(value.trim());
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`${name} must be a whole number of at least 1, got "${value}"`);
  return n;
}

/** A size: bytes, or a number with K, M or G (binary: 1M = 1 MiB). */
export function parseBytes(name: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmg])?i?b?$/i.exec(value.trim());
  const scale = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(match?.[2] ?? '').toLowerCase() as 'k'] ?? 1;
  const bytes = match ? Math.round(Number(match[1]) * scale) : NaN;
  if (!Number.isFinite(bytes) || bytes < 1) throw new TypeError(`${name} must be a size in bytes or with K, M or G (e.g. 100M), got "${value}"`);
  return bytes;
}

/**
 * The CHAT_LIMIT_* variables (docs/security.md). A rate given per hour or per second keeps
 * a burst of that many (per hour) or of twice that (per second); unset keeps the default.
 */
function limitsFromEnv(env: Env): Partial<LimitSettings> {
  const limits: Partial<LimitSettings> = {};
  const count = (variable: string, key: 'connectionsPerUser' | 'connectionsPerIp' | 'maxRoomMembers' | 'concurrentUploads') => {
    const v = nonEmpty(env[variable]);
    if (v !== undefined) limits[key] = parseCount(variable, v);
  };
  const perSecond = (variable: string, key: 'userRequests' | 'ipRequests' | 'userMessages' | 'ipTyping'): void => {
    const v = nonEmpty(env[variable]);
    if (v !== undefined) limits[key] = burstOf(parseCount(variable, v), 2);
  };
  const perHour = (variable: string, key: 'signupsPerIp' | 'roomsPerUser'): void => {
    const v = nonEmpty(env[variable]);
    if (v === undefined) return;
    const n = parseCount(variable, v);
    limits[key] = { perSecond: n / 3600, burst: n };
  };
  const bytes = (variable: string, key: 'uploadBytesPerDay' | 'uploadBytesTotal' | 'maxHeldBytes'): void => {
    const v = nonEmpty(env[variable]);
    if (v !== undefined) limits[key] = parseBytes(variable, v);
  };
  count('CHAT_LIMIT_CONNECTIONS_PER_USER', 'connectionsPerUser');
  count('CHAT_LIMIT_CONNECTIONS_PER_IP', 'connectionsPerIp');
  count('CHAT_LIMIT_ROOM_MEMBERS', 'maxRoomMembers');
  count('CHAT_LIMIT_CONCURRENT_UPLOADS', 'concurrentUploads');
  perSecond('CHAT_LIMIT_USER_REQUESTS', 'userRequests');
  perSecond('CHAT_LIMIT_IP_REQUESTS', 'ipRequests');
  perSecond('CHAT_LIMIT_USER_MESSAGES', 'userMessages');
  perSecond('CHAT_LIMIT_IP_TYPING', 'ipTyping');
  perHour('CHAT_LIMIT_SIGNUPS_PER_IP', 'signupsPerIp');
  perHour('CHAT_LIMIT_ROOMS_PER_USER', 'roomsPerUser');
  bytes('CHAT_LIMIT_UPLOAD_BYTES_PER_DAY', 'uploadBytesPerDay');
  bytes('CHAT_LIMIT_UPLOAD_BYTES_TOTAL', 'uploadBytesTotal');
  bytes('CHAT_LIMIT_HELD_BYTES', 'maxHeldBytes');
  const ipAccepts = nonEmpty(env.CHAT_LIMIT_IP_ACCEPTS);
  if (ipAccepts !== undefined) limits.ipAccepts = burstOf(parseCount('CHAT_LIMIT_IP_ACCEPTS', ipAccepts), 5);
  const serverAccepts = nonEmpty(env.CHAT_LIMIT_SERVER_ACCEPTS);
  if (serverAccepts !== undefined) limits.serverAccepts = burstOf(parseCount('CHAT_LIMIT_SERVER_ACCEPTS', serverAccepts), 1);
  const serverBytes = nonEmpty(env.CHAT_LIMIT_SERVER_BYTES);
  if (serverBytes !== undefined) limits.serverBytes = { perSecond: parseBytes('CHAT_LIMIT_SERVER_BYTES', serverBytes), burst: parseBytes('CHAT_LIMIT_SERVER_BYTES', serverBytes) / 2 };
  const ipBytes = nonEmpty(env.CHAT_LIMIT_IP_BYTES);
  if (ipBytes !== undefined) limits.ipBytes = burstOf(parseBytes('CHAT_LIMIT_IP_BYTES', ipBytes), 1);
  const userBytes = nonEmpty(env.CHAT_LIMIT_USER_BYTES);
  if (userBytes !== undefined) limits.userBytes = burstOf(parseBytes('CHAT_LIMIT_USER_BYTES', userBytes), 2);
  const orphan = nonEmpty(env.CHAT_UPLOAD_ORPHAN_TTL);
  if (orphan !== undefined) limits.orphanUploadTtlMs = parseDuration('CHAT_UPLOAD_ORPHAN_TTL', orphan);
  return limits;
}

function burstOf(perSecond: number, times: number): Rate {
  return { perSecond, burst: perSecond * times };
}
