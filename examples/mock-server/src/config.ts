import { fileURLToPath } from 'node:url';
import { isLogLevel } from './log.js';
import { DEFAULT_SESSION_TTL_MS, type ServerOptions, isLoopbackHost } from './options.js';
import { DEFAULT_ORIGINS } from './origins.js';

/** `.data/chat.sqlite` inside examples/mock-server, wherever the process was started. */
export const DEFAULT_DB_FILE = fileURLToPath(new URL('../.data/chat.sqlite', import.meta.url));

export type Env = Record<string, string | undefined>;

/**
 * Reads the environment into server options (see docs/server.md). Throws a TypeError
 * naming the variable when a value cannot be read, so a typo never starts a server with
 * a setting nobody asked for.
 */
export function optionsFromEnv(env: Env = process.env): ServerOptions & Required<Pick<ServerOptions, 'port' | 'host' | 'db'>> {
  const host = nonEmpty(env.HOST) ?? '127.0.0.1';
  const options: ServerOptions & Required<Pick<ServerOptions, 'port' | 'host' | 'db'>> = {
    port: parsePort(env.PORT),
    host,
    db: nonEmpty(env.CHAT_DB) ?? DEFAULT_DB_FILE,
    origins: env.CHAT_ORIGINS === undefined ? [...DEFAULT_ORIGINS] : parseList(env.CHAT_ORIGINS),
    emailLogin: env.CHAT_EMAIL_LOGIN === undefined || env.CHAT_EMAIL_LOGIN.trim() === '' ? isLoopbackHost(host) : parseSwitch('CHAT_EMAIL_LOGIN', env.CHAT_EMAIL_LOGIN),
    sessionTtlMs: env.CHAT_SESSION_TTL === undefined || env.CHAT_SESSION_TTL.trim() === '' ? DEFAULT_SESSION_TTL_MS : parseDuration('CHAT_SESSION_TTL', env.CHAT_SESSION_TTL),
    logLevel: parseLogLevel(env.LOG_LEVEL),
    // A fresh database gets the sample people and rooms (src/sample.ts) unless CHAT_SAMPLE=off.
    sample: env.CHAT_SAMPLE === undefined || env.CHAT_SAMPLE.trim() === '' ? true : parseSwitch('CHAT_SAMPLE', env.CHAT_SAMPLE),
  };
  const secret = nonEmpty(env.CHAT_JWT_SECRET);
  if (secret !== undefined) options.jwtSecret = secret;
  const publicUrl = nonEmpty(env.CHAT_PUBLIC_URL);
  if (publicUrl !== undefined) options.publicUrl = parsePublicUrl(publicUrl);
  return options;
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
