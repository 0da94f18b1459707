import { ChatError, PROTOCOL_VERSION, type ReplyData, type User, toChatError } from '../protocol/index.js';
import type { LoginCredentials, Session } from '../contract/host-api.js';
import type { HostContext } from '../contract/host-context.js';
import type { Connection } from './connection.js';

export interface HostSessionOptions {
  /** The server url: stored sessions are per server (and per user). */
  url: string;
  now(): number;
  connection: Connection;
  isClosed(): boolean;
  /** Runs what a connect runs (rooms, outbox, catch-up), so a login resolves with rooms in place. */
  afterConnect(reply: ReplyData<'create_connection'>): Promise<void>;
  /** A session became this host's: read what it needs (cached rooms, the outbox). */
  started(session: Session): Promise<void>;
  /** The session stops being served here: drop everything of it. */
  setAside(): void;
}

type EndReason = 'revoked' | 'rejected' | 'logout';

/**
 * Who this host is signed in as: resuming a stored session, signing up or in (switching
 * user when someone is signed in already), logging out, and the server ending a session.
 * Changes run one at a time, in the order asked. Every user's session is stored per server,
 * the newest first: that is the one a new tab resumes.
 */
export class HostSession {
  private session: Session | null = null;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly host: HostContext,
    private readonly options: HostSessionOptions,
  ) {}

  current(): Session | null {
    return this.session;
  }

  /** The server sent a newer copy of the user (a connect): keep it. */
  refreshUser(user: User): void {
    if (this.session && user.id === this.session.user.id && user !== this.session.user) this.session = { ...this.session, user };
  }

  /**
   * Picks up a stored session (a reload): cached rooms and queued messages show at once,
   * then it connects. Without one given, the user most recently active on this server.
   */
  resume(session?: Session): Promise<Session | null> {
    return this.serially(() => this.resumeNow(session));
  }

  signUp(email: string, name: string | undefined): Promise<User> {
    const { connection } = this.options;
    return this.serially(() =>
      this.switchTo(async () => {
        const data: Record<string, unknown> = { email };
        if (name !== undefined) data.name = name;
        await connection.request('create_user', data);
        return connection.request('create_connection', { protocolVersion: PROTOCOL_VERSION, email });
      }),
    );
  }

  login(credentials: LoginCredentials): Promise<User> {
    const { connection } = this.options;
    return this.serially(() => this.switchTo(() => connection.request('create_connection', { protocolVersion: PROTOCOL_VERSION, ...credentials })));
  }

  /** Ends the session on the server; keeps this user's unsent messages for the next login. */
  logout(): Promise<void> {
    return this.serially(async () => {
      const session = this.session;
      if (!session) return;
      const { connection } = this.options;
      if (connection.status === 'open') {
        try {
          connection.expectLogoutClose();
          await connection.request('delete_connection', {});
        } catch {
          // The token is forgotten locally either way; the server expires it.
        }
      }
      await this.end('logout');
      const { storage } = this.host;
      await Promise.all([storage.drafts.deleteByUser(session.user.id), storage.cache.clearUser(session.user.id)]);
    });
  }

  /** The session is over (logout, revoked elsewhere, a refused token): only this user's stored session goes. */
  async end(reason: EndReason): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.setAside(new ChatError('UNAUTHENTICATED', 'signed out'), 'closed');
    await this.host.storage.sessions.delete(this.options.url, session.user.id);
    this.host.emit({ type: 'rooms', rooms: [] });
    this.host.emit({ type: 'session', session: null, reason });
  }

  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.queue.then(step);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async resumeNow(session?: Session): Promise<Session | null> {
    if (this.session) return this.session;
    const stored = session ?? (await this.host.storage.sessions.latest(this.options.url));
    if (!stored || this.session) return this.session;
    await this.start({ user: stored.user, token: stored.token });
    this.options.connection.start();
    return this.session;
  }

  /**
   * Signs in on a fresh anonymous socket. A signed-in host switches user: the current
   * session is set aside (still stored, for its other tabs and a later resume) and comes
   * back if the new sign-in fails. A failed sign-in leaves the connection `idle`, with why.
   */
  private async switchTo(authenticate: () => Promise<ReplyData<'create_connection'>>): Promise<User> {
    const previous = this.session;
    const { connection } = this.options;
    if (previous) this.setAside(new ChatError('UNAUTHENTICATED', 'switching user'), 'idle');
    try {
      connection.start();
      await connection.whenOpen();
      const reply = await authenticate();
      await this.start({ user: reply.user, token: reply.token });
      await this.options.afterConnect(reply);
      return reply.user;
    } catch (error) {
      if (!this.session && !this.options.isClosed()) {
        connection.stop(toChatError(error), 'idle', true);
        if (previous) await this.resumeNow(previous);
      }
      throw error;
    }
  }

  /** Takes a session (new or resumed) as this host's, stored as the most recent. */
  private async start(session: Session): Promise<void> {
    this.session = session;
    const { storage } = this.host;
    await storage.sessions.put({ scope: this.options.url, userId: session.user.id, user: session.user, token: session.token, savedAt: this.options.now() });
    // Set aside or ended while storage wrote (revoked, closed): it is no longer this host's to announce.
    if (this.session !== session) return;
    this.host.emit({ type: 'session', session });
    await this.options.started(session);
  }

  private setAside(error: ChatError, status: 'idle' | 'closed'): void {
    this.session = null;
    this.options.setAside();
    this.options.connection.stop(error, status);
  }
}
