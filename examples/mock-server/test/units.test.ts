import { describe, expect, test } from 'vitest';
import { optionsFromEnv, parseDuration, DEFAULT_DB_FILE } from '../src/config.js';
import { readImageInfo, sniffImageType } from '../src/image-info.js';
import { signJwt, verifyJwt } from '../src/jwt.js';
import { createLogger } from '../src/log.js';
import { Limits, MemoryLimitStore } from '../src/limits/index.js';
import { isLoopbackHost, resolveLimits, resolveOptions } from '../src/options.js';
import { isBlank, wellFormed } from '../src/text.js';
import { OriginPolicy } from '../src/origins.js';
import { TokenBucket } from '../src/rate-limit.js';
import { gif, jpeg, png, webpExtended } from './images.js';

describe('TokenBucket', () => {
  test('bursts, then refills at the rate, and says how long to wait', () => {
    let now = 0;
    const bucket = new TokenBucket(30, 60, () => now);
    for (let i = 0; i < 60; i++) expect(bucket.take()).toBe(0);
    const wait = bucket.take();
    expect(wait).toBe(34); // one token every 33.3 ms
    now += 33;
    expect(bucket.take()).toBeGreaterThan(0);
    now += 1;
    expect(bucket.take()).toBe(0);
    now += 10_000;
    expect(bucket.available()).toBe(60);
  });
});

describe('OriginPolicy', () => {
  test('defaults: any port of localhost and 127.0.0.1 over http', () => {
    const p = new OriginPolicy(['http://localhost:*', 'http://127.0.0.1:*']);
    expect(p.allows(undefined)).toBe(true);
    expect(p.allows('http://localhost:5173')).toBe(true);
    expect(p.allows('http://localhost')).toBe(true);
    expect(p.allows('HTTP://LOCALHOST:80')).toBe(true);
    expect(p.allows('http://127.0.0.1:8787')).toBe(true);
    expect(p.allows('https://localhost:5173')).toBe(false);
    expect(p.allows('http://localhost.evil.com')).toBe(false);
    expect(p.allows('http://localhost:5173.evil.com')).toBe(false);
    expect(p.allows('http://evil.com/http://localhost:1')).toBe(false);
    expect(p.allows('null')).toBe(false);
  });

  test('exact origins, subdomain wildcards and *', () => {
    const p = new OriginPolicy(['https://app.example.com', 'https://*.example.org']);
    expect(p.allows('https://app.example.com')).toBe(true);
    expect(p.allows('https://app.example.com:444')).toBe(false);
    expect(p.allows('https://a.b.example.org')).toBe(true);
    expect(p.allows('https://example.org')).toBe(false);
    expect(p.allows('https://evilexample.org')).toBe(false);
    expect(new OriginPolicy(['*']).allows('https://anything.test')).toBe(true);
  });
});

describe('jwt', () => {
  test('round trip, expiry, nbf, tampering', () => {
    const now = Date.now();
    const exp = Math.floor(now / 1000) + 60;
    const token = signJwt({ sub: 'u1', exp }, 's');
    expect(verifyJwt(token, 's', now)).toEqual({ ok: true, claims: { sub: 'u1', exp } });
    expect(verifyJwt(token, 's', exp * 1000).ok).toBe(false);
    expect(verifyJwt(signJwt({ sub: 'u1', exp, nbf: exp - 1 }, 's'), 's', now).ok).toBe(false);
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'admin', exp })).toString('base64url')}.${sig}`;
    expect(verifyJwt(forged, 's', now).ok).toBe(false);
    expect(verifyJwt(signJwt({ sub: '', exp }, 's'), 's', now).ok).toBe(false);
    expect(verifyJwt(signJwt({ sub: 7, exp }, 's'), 's', now).ok).toBe(false);
  });

  test('a signature whose last character is another encoding of the same bytes is refused', () => {
    const now = Date.now();
    const token = signJwt({ sub: 'u1', exp: Math.floor(now / 1000) + 60 }, 's');
    const sig = token.slice(token.lastIndexOf('.') + 1);
    // 32 bytes are 43 base64url characters: the last one carries 4 bits, 2 unused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const twin = `${token.slice(0, -1)}${alphabet[last ^ 1]}`;
    expect(Buffer.from(twin.slice(twin.lastIndexOf('.') + 1), 'base64url').equals(Buffer.from(sig, 'base64url'))).toBe(true);
    expect(verifyJwt(token, 's', now).ok).toBe(true);
    expect(verifyJwt(twin, 's', now)).toEqual({ ok: false, reason: 'bad JWT signature' });
  });
});

describe('text', () => {
  test('a lone surrogate becomes U+FFFD; pairs stay', () => {
    expect(wellFormed('a\uD800b')).toBe('a\uFFFDb');
    expect(wellFormed('\uDC00')).toBe('\uFFFD');
    expect(wellFormed('ok 😀')).toBe('ok 😀');
  });

  test('only spaces and invisible characters are blank', () => {
    for (const t of ['', ' ', '\u200B', '\u200B\u200C\u200D\u2060\uFEFF', '\u00A0\u3000', '\u3164', '\u2800\u034F']) expect(isBlank(t)).toBe(true);
    for (const t of ['a', '\u200Bx', '😀', '.']) expect(isBlank(t)).toBe(false);
  });
});

describe('limits', () => {
  const settings = resolveLimits({ connectionsPerUser: 2, userMessages: { perSecond: 1, burst: 2 }, userBytes: { perSecond: 100, burst: 100 }, ipBytes: { perSecond: 1000, burst: 1000 } }, { perSecond: 30, burst: 60 });

  test('counts across connections: a user past its maximum is refused until one closes', () => {
    const limits = new Limits(settings, new MemoryLimitStore());
    expect(limits.bindUser('u')).toBe(true);
    expect(limits.bindUser('u')).toBe(true);
    expect(limits.bindUser('u')).toBe(false);
    expect(limits.bindUser('v')).toBe(true);
    limits.unbindUser('u');
    expect(limits.bindUser('u')).toBe(true);
  });

  test('buckets refuse with RATE_LIMITED and retryAfterMs, and refill with time', () => {
    let now = 0;
    const limits = new Limits(settings, new MemoryLimitStore(() => now));
    limits.message('u');
    limits.message('u');
    let error: unknown;
    try {
      limits.message('u');
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'RATE_LIMITED', retryAfterMs: 1000 });
    now += 1000;
    expect(() => limits.message('u')).not.toThrow();
  });

  test('bytes sent are charged after the fact: a request in debt waits until it is paid', () => {
    let now = 0;
    const limits = new Limits(settings, new MemoryLimitStore(() => now));
    limits.request('1.2.3.4', 'u');
    limits.sent('1.2.3.4', 'u', 300); // 100 allowed, 200 in debt
    expect(() => limits.request('1.2.3.4', 'u')).toThrow(expect.objectContaining({ code: 'RATE_LIMITED', retryAfterMs: 2010 }));
    expect(() => limits.request('5.6.7.8', 'other')).not.toThrow();
    now += 2020;
    expect(() => limits.request('1.2.3.4', 'u')).not.toThrow();
  });

  test('idle keys are dropped', () => {
    let now = 0;
    const store = new MemoryLimitStore(() => now);
    const limits = new Limits(settings, store);
    limits.message('u');
    expect(limits.bindUser('u')).toBe(true);
    limits.unbindUser('u');
    expect(store.size()).toBe(1);
    now += 10_000;
    expect(store.size()).toBe(0);
  });
});

describe('image-info', () => {
  test('signatures and sizes', () => {
    expect(readImageInfo(png(3, 4))).toEqual({ mime: 'image/png', width: 3, height: 4 });
    expect(readImageInfo(gif(5, 6))).toEqual({ mime: 'image/gif', width: 5, height: 6 });
    expect(readImageInfo(jpeg(7, 8))).toEqual({ mime: 'image/jpeg', width: 7, height: 8 });
    expect(readImageInfo(webpExtended(9, 10))).toEqual({ mime: 'image/webp', width: 9, height: 10 });
    expect(readImageInfo(Buffer.from([0xff, 0xd8, 0xff]))).toEqual({ mime: 'image/jpeg' }); // size unknown: omitted
    expect(readImageInfo(png(0, 4))).toEqual({ mime: 'image/png' }); // a zero size is no size
    expect(sniffImageType(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeUndefined();
    expect(sniffImageType(Buffer.from('RIFF....WAVE'))).toBeUndefined();
  });
});

describe('config', () => {
  test('defaults', () => {
    const o = optionsFromEnv({});
    expect(o).toMatchObject({ port: 8787, host: '127.0.0.1', db: DEFAULT_DB_FILE, emailLogin: false, signup: 'open', showEmails: false, trustProxy: false, sessionTtlMs: 30 * 86_400_000, logLevel: 'info', sample: true });
    // Development mode (npm start, npm run server) turns email sign-in on; CHAT_EMAIL_LOGIN still decides.
    expect(optionsFromEnv({}, { development: true }).emailLogin).toBe(true);
    expect(optionsFromEnv({ CHAT_EMAIL_LOGIN: 'off' }, { development: true }).emailLogin).toBe(false);
    expect(optionsFromEnv({ HOST: '127.0.0.1' }).emailLogin).toBe(false); // loopback no longer implies it
    expect(o.origins).toEqual(['http://localhost:*', 'http://127.0.0.1:*']);
    expect(DEFAULT_DB_FILE).toMatch(/examples[/\\]mock-server[/\\]\.data[/\\]chat\.sqlite$/);
    expect(o).not.toHaveProperty('jwtSecret');
    expect(o).not.toHaveProperty('redis');
  });

  test('CHAT_REDIS: a redis:// or rediss:// url, anything else refused by name', () => {
    expect(optionsFromEnv({ CHAT_REDIS: 'redis://:pw@cache:6379/0' }).redis).toBe('redis://:pw@cache:6379/0');
    expect(optionsFromEnv({ CHAT_REDIS: ' rediss://cache ' }).redis).toBe('rediss://cache');
    expect(optionsFromEnv({ CHAT_REDIS: '  ' })).not.toHaveProperty('redis');
    expect(() => optionsFromEnv({ CHAT_REDIS: 'cache:6379' })).toThrow(/CHAT_REDIS/);
    expect(() => optionsFromEnv({ CHAT_REDIS: 'http://cache' })).toThrow(/CHAT_REDIS/);
  });

  test('every variable', () => {
    const o = optionsFromEnv({
      PORT: '0', HOST: '0.0.0.0', CHAT_DB: ':memory:', CHAT_JWT_SECRET: 'x', CHAT_ORIGINS: 'https://a.test, https://*.b.test',
      CHAT_PUBLIC_URL: 'https://chat.example.com/', CHAT_SESSION_TTL: '12h', LOG_LEVEL: 'debug', CHAT_SAMPLE: 'off',
      CHAT_RESTART_RETRY_AFTER_MS: '2500',
    });
    expect(o).toMatchObject({
      port: 0, host: '0.0.0.0', db: ':memory:', jwtSecret: 'x', origins: ['https://a.test', 'https://*.b.test'],
      publicUrl: 'https://chat.example.com', sessionTtlMs: 12 * 3_600_000, logLevel: 'debug', emailLogin: false, sample: false,
      restartRetryAfterMs: 2500,
    });
    expect(optionsFromEnv({}).restartRetryAfterMs).toBe(1000);
    expect(optionsFromEnv({ CHAT_RESTART_RETRY_AFTER_MS: '0' }).restartRetryAfterMs).toBe(0);
    expect(optionsFromEnv({ HOST: '0.0.0.0', CHAT_EMAIL_LOGIN: 'on' }).emailLogin).toBe(true);
    expect(optionsFromEnv({ CHAT_EMAIL_LOGIN: 'off' }).emailLogin).toBe(false);
    const l = optionsFromEnv({
      CHAT_SIGNUP: 'closed', CHAT_SHOW_EMAILS: 'on', CHAT_TRUST_PROXY: 'on',
      CHAT_LIMIT_CONNECTIONS_PER_USER: '5', CHAT_LIMIT_CONNECTIONS_PER_IP: '50', CHAT_LIMIT_USER_REQUESTS: '40',
      CHAT_LIMIT_IP_REQUESTS: '400', CHAT_LIMIT_USER_MESSAGES: '5', CHAT_LIMIT_USER_BYTES: '1M', CHAT_LIMIT_SIGNUPS_PER_IP: '10',
      CHAT_LIMIT_ROOMS_PER_USER: '30', CHAT_LIMIT_ROOM_MEMBERS: '50', CHAT_LIMIT_UPLOAD_BYTES_PER_DAY: '50M',
      CHAT_LIMIT_UPLOAD_BYTES_TOTAL: '2G', CHAT_LIMIT_CONCURRENT_UPLOADS: '2', CHAT_UPLOAD_ORPHAN_TTL: '2h', CHAT_LIMIT_HELD_BYTES: '32M',
      CHAT_LIMIT_IP_BYTES: '3M', CHAT_LIMIT_SERVER_BYTES: '32M', CHAT_LIMIT_IP_TYPING: '10', CHAT_UPLOADS_DIR: '/srv/chat/uploads',
    });
    expect(l).toMatchObject({ signup: 'closed', showEmails: true, trustProxy: true, uploadsDir: '/srv/chat/uploads' });
    expect(l.limits).toEqual({
      connectionsPerUser: 5, connectionsPerIp: 50, userRequests: { perSecond: 40, burst: 80 }, ipRequests: { perSecond: 400, burst: 800 },
      userMessages: { perSecond: 5, burst: 10 }, ipTyping: { perSecond: 10, burst: 20 }, userBytes: { perSecond: 1024 ** 2, burst: 2 * 1024 ** 2 },
      ipBytes: { perSecond: 3 * 1024 ** 2, burst: 3 * 1024 ** 2 }, serverBytes: { perSecond: 32 * 1024 ** 2, burst: 16 * 1024 ** 2 }, signupsPerIp: { perSecond: 10 / 3600, burst: 10 }, roomsPerUser: { perSecond: 30 / 3600, burst: 30 }, maxRoomMembers: 50,
      uploadBytesPerDay: 50 * 1024 ** 2, uploadBytesTotal: 2 * 1024 ** 3, concurrentUploads: 2, orphanUploadTtlMs: 7_200_000, maxHeldBytes: 32 * 1024 ** 2,
    });
  });

  test('bad values are refused with the variable named', () => {
    expect(() => optionsFromEnv({ PORT: 'eighty' })).toThrow(/PORT/);
    expect(() => optionsFromEnv({ CHAT_EMAIL_LOGIN: 'maybe' })).toThrow(/CHAT_EMAIL_LOGIN/);
    expect(() => optionsFromEnv({ CHAT_SIGNUP: 'invite' })).toThrow(/CHAT_SIGNUP/);
    expect(() => optionsFromEnv({ CHAT_LIMIT_CONNECTIONS_PER_USER: '0' })).toThrow(/CHAT_LIMIT_CONNECTIONS_PER_USER/);
    expect(() => optionsFromEnv({ CHAT_LIMIT_USER_BYTES: 'lots' })).toThrow(/CHAT_LIMIT_USER_BYTES/);
    expect(() => optionsFromEnv({ CHAT_SESSION_TTL: '30 days' })).toThrow(/CHAT_SESSION_TTL/);
    expect(() => optionsFromEnv({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
    expect(() => optionsFromEnv({ CHAT_PUBLIC_URL: 'ftp://x' })).toThrow(/CHAT_PUBLIC_URL/);
    expect(() => optionsFromEnv({ CHAT_SAMPLE: 'some' })).toThrow(/CHAT_SAMPLE/);
    expect(() => optionsFromEnv({ CHAT_RESTART_RETRY_AFTER_MS: '1s' })).toThrow(/CHAT_RESTART_RETRY_AFTER_MS/);
  });

  test('durations', () => {
    expect(parseDuration('T', '3600')).toBe(3_600_000);
    expect(parseDuration('T', '90m')).toBe(5_400_000);
    expect(parseDuration('T', '30d')).toBe(2_592_000_000);
    expect(parseDuration('T', '1.5h')).toBe(5_400_000);
    expect(() => parseDuration('T', '0')).toThrow();
    expect(() => parseDuration('T', '-5')).toThrow();
  });

  test('options defaults and loopback detection', () => {
    expect(resolveOptions()).toMatchObject({ port: 0, host: '127.0.0.1', db: ':memory:', logLevel: 'silent', authTimeoutMs: 10_000, heartbeatIntervalMs: 30_000, rateLimit: { perSecond: 30, burst: 60 }, maxBufferedBytes: 4 * 1024 * 1024, emailLogin: false, signup: 'open', showEmails: false });
    expect(resolveOptions().limits).toMatchObject({ connectionsPerUser: 20, connectionsPerIp: 100, userRequests: { perSecond: 60, burst: 120 }, userMessages: { perSecond: 20, burst: 60 }, ipTyping: { perSecond: 20, burst: 40 }, signupsPerIp: { burst: 20 }, roomsPerUser: { burst: 60 }, maxRoomMembers: 100 });
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopbackHost(h)).toBe(true);
    for (const h of ['0.0.0.0', '192.168.1.2', '::', 'example.com']) expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('log', () => {
  test('writes only at or above its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', (l) => lines.push(l));
    log.debug('no');
    log.info('no');
    log.warn('yes', { n: 1 });
    log.error('yes too', { error: new Error('boom') });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/WARN yes \{"n":1\}$/);
    expect(lines[1]).toContain('"message":"boom"');
    createLogger('silent', (l) => lines.push(l)).error('never');
    expect(lines).toHaveLength(2);
  });
});

describe('storage choice', () => {
  test("storage: 'memory' and db: 'memory' keep maps; ':memory:' and files are SQLite", async () => {
    const { openStorage } = await import('../src/storage/index.js');
    for (const [spec, kind] of [
      [{ storage: 'memory' }, 'memory'],
      [{ db: 'memory' }, 'memory'],
      [{ db: ':memory:' }, 'sqlite'],
      [{}, 'sqlite'],
    ] as const) {
      const s = openStorage(spec);
      expect(s.kind).toBe(kind);
      s.close();
    }
  });
});

describe('database url in the log', () => {
  test('a PostgreSQL password is never logged; file names pass as they are', async () => {
    const { withoutPassword } = await import('../src/server.js');
    expect(withoutPassword('postgres://chat:s3cret@db:5432/chat')).toBe('postgres://chat:***@db:5432/chat');
    expect(withoutPassword('postgres://chat@db/chat')).toBe('postgres://chat@db/chat');
    expect(withoutPassword('/var/lib/chat/chat.sqlite')).toBe('/var/lib/chat/chat.sqlite');
    expect(withoutPassword(':memory:')).toBe(':memory:');
  });
});
