import { createHmac, timingSafeEqual } from 'node:crypto';

export interface JwtClaims {
  sub: string;
  /** Seconds since the epoch, as JWTs have it. */
  exp: number;
  [claim: string]: unknown;
}

export type JwtResult = { ok: true; claims: JwtClaims } | { ok: false; reason: string };

/** A JWT is three base64url parts joined by dots; session tokens hold no dot. */
export function looksLikeJwt(token: string): boolean {
  return /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * Verifies an HS256 JWT: the header must say HS256 (no `none`, no algorithm switch), the
 * signature must match, `sub` must be a non-empty string, `exp` is required and must be in
 * the future, and `nbf`, when present, must have passed. Small clock skew is not allowed
 * for: the application mints the token just before use.
 */
export function verifyJwt(token: string, secret: string, nowMs: number = Date.now()): JwtResult {
  if (!looksLikeJwt(token)) return { ok: false, reason: 'not a JWT' };
  const [headerPart, payloadPart, signaturePart] = token.split('.') as [string, string, string];
  const header = decodeJson(headerPart);
  if (!header || header.alg !== 'HS256') return { ok: false, reason: 'the JWT must be signed with HS256' };
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  // One encoding only: a last character that differs in bits the bytes do not use is another token.
  if (given.toString('base64url') !== signaturePart) return { ok: false, reason: 'bad JWT signature' };
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad JWT signature' };
  const claims = decodeJson(payloadPart);
  if (!claims) return { ok: false, reason: 'unreadable JWT payload' };
  if (typeof claims.sub !== 'string' || claims.sub.length === 0) return { ok: false, reason: 'the JWT has no sub' };
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return { ok: false, reason: 'the JWT has no exp' };
  if (claims.exp * 1000 <= nowMs) return { ok: false, reason: 'the JWT has expired' };
  if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > nowMs)) {
    return { ok: false, reason: 'the JWT is not valid yet' };
  }
  return { ok: true, claims: claims as JwtClaims };
}

/** Mints an HS256 JWT (tests, and an example for the application backend). */
export function signJwt(claims: Record<string, unknown>, secret: string): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const signature = createHmac('sha256', secret).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${signature}`;
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
