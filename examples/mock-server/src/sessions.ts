import { createHash, randomBytes } from 'node:crypto';
import { ChatError, type User } from '@chat/sdk/protocol';
import { looksLikeJwt, verifyJwt } from './jwt.js';
import type { AsyncStorage } from './storage/async-storage.js';
import type { Session } from './storage/index.js';

/** A random id with a readable prefix: 16 random bytes, unguessable. */
export function newId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('base64url')}`;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Authenticated {
  session: Session;
  user: User;
  /** The session token to hand back (a fresh one for email and JWT logins). */
  token: string;
}

/**
 * Sessions: opaque bearer tokens (32 random bytes) whose sha256 is stored, so every tab
 * and every reconnect can join one session. A JWT login opens a session too, ending no
 * later than the JWT's `exp`.
 */
export class Sessions {
  constructor(
    private readonly storage: AsyncStorage,
    private readonly settings: { ttlMs: number; jwtSecret: string | undefined },
    private readonly now: () => number = Date.now,
  ) {}

  /** Opens a new session for the user; `endsAt` caps its lifetime (a JWT's exp). */
  async open(user: User, endsAt = Infinity): Promise<Authenticated> {
    const token = `cs_${randomBytes(32).toString('base64url')}`;
    const createdAt = this.now();
    const session: Session = {
      id: newId('s'),
      userId: user.id,
      tokenHash: hashToken(token),
      createdAt,
      expiresAt: Math.min(createdAt + this.settings.ttlMs, endsAt),
    };
    await this.storage.createSession(session);
    return { session, user, token };
  }

  /**
   * A token login: a session token joins its session; a JWT (when a secret is set) opens a
   * new one. Anything unknown, expired or revoked is UNAUTHENTICATED.
   */
  async login(token: string): Promise<Authenticated> {
    if (looksLikeJwt(token)) {
      if (!this.settings.jwtSecret) throw new ChatError('UNAUTHENTICATED', 'this server does not accept JWTs');
      const result = verifyJwt(token, this.settings.jwtSecret, this.now());
      if (!result.ok) throw new ChatError('UNAUTHENTICATED', result.reason);
      const user = await this.storage.getUser(result.claims.sub);
      if (!user) throw new ChatError('UNAUTHENTICATED', 'the JWT names no known user');
      return this.open(user, result.claims.exp * 1000);
    }
    const found = await this.find(token);
    if (!found) throw new ChatError('UNAUTHENTICATED', 'unknown or expired token');
    return { ...found, token };
  }

  /** The live session of a session token (uploads use this), or undefined. */
  async find(token: string): Promise<{ session: Session; user: User } | undefined> {
    const session = await this.storage.getSessionByTokenHash(hashToken(token));
    if (!session) return undefined;
    if (session.expiresAt <= this.now()) {
      await this.storage.deleteSession(session.id);
      return undefined;
    }
    const user = await this.storage.getUser(session.userId);
    return user && { session, user };
  }

  /** The user an upload's bearer token stands for: a live session token, or a valid JWT. */
  async authorize(token: string): Promise<User | undefined> {
    if (looksLikeJwt(token)) {
      if (!this.settings.jwtSecret) return undefined;
      const result = verifyJwt(token, this.settings.jwtSecret, this.now());
      return result.ok ? await this.storage.getUser(result.claims.sub) : undefined;
    }
    return (await this.find(token))?.user;
  }

  /** Deletes every expired session (the server's sweep); returns how many. */
  deleteExpired(): Promise<number> {
    return this.storage.deleteExpiredSessions(this.now());
  }

  isLive(session: Session): boolean {
    return session.expiresAt > this.now();
  }

  async revoke(session: Session): Promise<void> {
    await this.storage.deleteSession(session.id);
  }
}
