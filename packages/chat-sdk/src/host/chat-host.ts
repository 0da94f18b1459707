import { type ActionName, ChatError, type Message, PROTOCOL_VERSION, type ReplyData, type Room, type ServerEvent, type User, toChatError } from '../protocol/index.js';
import type { CommandResult, ConnectionState, HostCommand, HostEvent, HostSnapshot, LoginCredentials, Session } from '../contract/host-api.js';
import type { ChatStorage } from '../storage/types.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { Connection } from './connection.js';
import { OutboxDrainer } from './outbox-drainer.js';
import { RoomSync } from './room-sync.js';
import type { WebSocketConstructor } from '../contract/platform.js';
import type { FetchLike } from '../contract/platform.js';
import { uploadImage, uploadUrlFor } from './uploads.js';
import { holdWebLock } from './web-lock.js';

export interface HostOptions {
  /** WebSocket url of the server, e.g. `ws://127.0.0.1:8787/ws`. */
  url: string;
  WebSocket: WebSocketConstructor;
  fetch: FetchLike;
  storage: ChatStorage;
  /** Default: exponential, full jitter, 500 ms doubling to at most 30 s. */
  backoff?: Backoff;
  /** Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Idle time before a liveness `ping`. Default 25 000 ms. */
  pingIntervalMs?: number;
  /** Where images are uploaded. Default: the server's `/uploads` next to `url`. */
  uploadUrl?: string;
  now?: () => number;
}

type Listener = (event: HostEvent) => void;

/**
 * The connection host: everything that must happen once per user and origin. It owns the
 * socket, the session, the shared room list, gapless delivery and the outbox drain, and
 * tells every attached client what changed. The same class runs in process, in a
 * SharedWorker and in a leader tab; only the link that carries its commands differs.
 */
export class ChatHost {
  private readonly listeners = new Set<Listener>();
  private readonly connection: Connection;
  private readonly sync: RoomSync;
  private readonly now: () => number;
  private readonly backoff: Backoff;
  private connectionState: ConnectionState = { status: 'idle', attempt: 0 };
  private session: Session | null = null;
  private rooms: Room[] = [];
  /** Counts room changes from live events, so a slower room-list reply cannot undo them. */
  private roomEpoch = 0;
  private readonly roomTouched = new Map<string, number>();
  private readonly delivered = new RecentIds(2048);
  private readonly writes = new Set<Promise<void>>();
  private drainer: OutboxDrainer | null = null;
  private releaseOutboxLock: (() => void) | null = null;
  private sessionQueue: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly onOnline = () => {
    this.connection.retryNow();
    this.drainer?.resetBackoff();
  };

  constructor(private readonly options: HostOptions) {
    this.now = options.now ?? Date.now;
    this.backoff = options.backoff ?? exponentialBackoff();
    this.connection = new Connection({
      url: options.url,
      WebSocket: options.WebSocket,
      backoff: this.backoff,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      now: this.now,
      getToken: () => this.session?.token ?? null,
      onAuthenticated: (reply) => void this.afterConnect(reply.user),
      onEvent: (event) => this.handleServerEvent(event),
      onSessionEnded: (reason) => void this.endSession(reason),
      onFault: (error) => this.emit({ type: 'error', error }),
      onState: (state) => {
        this.connectionState = state;
        this.emit({ type: 'connection', state });
      },
    });
    this.sync = new RoomSync({
      fetchAfter: (roomId, after) => this.connection.request('get_messages', { roomId, after, limit: 100 }),
      deliver: (roomId, messages) => this.deliverMessages(roomId, messages),
      onError: (error) => this.reportError(error),
    });
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    target.addEventListener?.('online', this.onOnline);
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  snapshot(): HostSnapshot {
    return {
      connection: this.connectionState,
      session: this.session,
      rooms: this.rooms,
      outbox: this.drainer?.messages() ?? [],
    };
  }

  /** Runs one command from a client. Every failure is a ChatError; after `close`, CLOSED. */
  async handle<C extends HostCommand>(command: C): Promise<CommandResult<C>> {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    try {
      return (await this.run(command)) as CommandResult<C>;
    } catch (error) {
      // Whatever failed because the host closed meanwhile (storage, the socket) failed for that reason.
      if (this.closed) throw new ChatError('CLOSED', 'the client was closed', { cause: error });
      throw toChatError(error);
    }
  }

  private async run(command: HostCommand): Promise<unknown> {
    switch (command.type) {
      case 'snapshot':
        return this.snapshot();
      case 'resume':
        return this.serially(() => this.resume(command.session));
      case 'signUp':
        return this.serially(() => this.signUp(command.email, command.name));
      case 'login':
        return this.serially(() => this.login(command.credentials));
      case 'logout':
        return this.serially(() => this.logout());
      case 'reconnect':
        this.connection.retryNow();
        this.drainer?.resetBackoff();
        this.drainer?.kick();
        return;
      case 'request':
        return this.request(command.action, command.data);
      case 'send':
        return this.requireDrainer().add(command.row);
      case 'retry':
        return this.requireDrainer().retry(command.clientId);
      case 'discard':
        return this.requireDrainer().discard(command.clientId);
      case 'cachedMessages':
        return this.session ? this.options.storage.cache.getMessages(this.session.user.id, command.roomId) : [];
      default:
        return unhandled(command);
    }
  }

  /** Session changes (resume, sign-up, login, logout) run one at a time, in the order asked. */
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const run = this.sessionQueue.then(step);
    this.sessionQueue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Stops everything; storage closes once the cache writes already started are done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    target.removeEventListener?.('online', this.onOnline);
    this.stopDrainer();
    this.connection.dispose();
    this.listeners.clear();
    await Promise.allSettled([...this.writes]);
    this.options.storage.close();
  }

  // ---------------------------------------------------------------- session

  /**
   * Picks up a stored session (a reload): shows cached rooms and queued messages at once,
   * then connects. Without one given, the user most recently active on this server.
   */
  private async resume(session?: Session): Promise<Session | null> {
    if (this.session) return this.session;
    const stored = session ?? (await this.options.storage.sessions.latest(this.options.url));
    if (!stored || this.session) return this.session;
    await this.startSession({ user: stored.user, token: stored.token });
    this.connection.start();
    return this.session;
  }

  private async signUp(email: string, name: string | undefined): Promise<User> {
    return this.switchTo(async () => {
      const data: Record<string, unknown> = { email };
      if (name !== undefined) data.name = name;
      await this.connection.request('create_user', data);
      return this.connection.request('create_connection', { protocolVersion: PROTOCOL_VERSION, email });
    });
  }

  private async login(credentials: LoginCredentials): Promise<User> {
    return this.switchTo(() => this.connection.request('create_connection', { protocolVersion: PROTOCOL_VERSION, ...credentials }));
  }

  /**
   * Signs in on a fresh anonymous socket. A signed-in host switches user: the current
   * session is set aside (still stored, for its other tabs and a later resume) and comes
   * back if the new sign-in fails. A failed sign-in leaves the connection `idle`, with why.
   */
  private async switchTo(authenticate: () => Promise<ReplyData<'create_connection'>>): Promise<User> {
    const previous = this.session;
    if (previous) this.setSessionAside();
    try {
      this.connection.start();
      await this.connection.whenOpen();
      const reply = await authenticate();
      await this.startSession({ user: reply.user, token: reply.token });
      // Resolve with the room list in place, so the app can send into a room at once.
      await this.afterConnect(reply.user);
      return reply.user;
    } catch (error) {
      if (!this.session && !this.closed) {
        this.connection.stop(toChatError(error), 'idle', true);
        if (previous) await this.resume(previous);
      }
      throw error;
    }
  }

  /** Ends the session on the server; keeps this user's unsent messages for the next login. */
  private async logout(): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (this.connection.status === 'open') {
      try {
        this.connection.expectLogoutClose();
        await this.connection.request('delete_connection', {});
      } catch {
        // The token is forgotten locally either way; the server expires it.
      }
    }
    await this.endSession('logout');
    const { storage } = this.options;
    await Promise.all([storage.drafts.deleteByUser(session.user.id), storage.cache.clearUser(session.user.id)]);
  }

  /** Takes a session (new, or resumed) as this host's: stored as the most recent, cached rooms shown, the outbox loaded. */
  private async startSession(session: Session): Promise<void> {
    const { storage } = this.options;
    this.session = session;
    const row = { scope: this.options.url, userId: session.user.id, user: session.user, token: session.token, savedAt: this.now() };
    await storage.sessions.put(row);
    this.emit({ type: 'session', session });
    const cached = await storage.cache.getRooms(session.user.id);
    if (this.session !== session) return;
    // Live rooms may have arrived while storage was read; they are newer than the cache.
    const live = new Set(this.rooms.map((room) => room.id));
    const fromCache = cached.filter((room) => !live.has(room.id));
    if (fromCache.length) this.setRooms([...this.rooms, ...fromCache]);
    else this.emit({ type: 'rooms', rooms: this.rooms });
    await this.startDrainer(session.user.id);
  }

  /** Stops serving the session here without ending it: it stays stored and valid. */
  private setSessionAside(stop = { error: new ChatError('UNAUTHENTICATED', 'switching user'), status: 'idle' as 'idle' | 'closed' }): void {
    this.session = null;
    this.stopDrainer();
    this.sync.reset();
    this.rooms = [];
    this.connection.stop(stop.error, stop.status);
  }

  private async endSession(reason: 'revoked' | 'rejected' | 'logout'): Promise<void> {
    const session = this.session;
    if (!session) return;
    this.setSessionAside({ error: new ChatError('UNAUTHENTICATED', 'signed out'), status: 'closed' });
    await this.options.storage.sessions.delete(this.options.url, session.user.id);
    this.emit({ type: 'rooms', rooms: [] });
    this.emit({ type: 'session', session: null, reason });
  }

  // ---------------------------------------------------------------- connected

  /** On every (re)connect: refresh rooms, catch up what clients hold, then drain the outbox. */
  private async afterConnect(user: User): Promise<void> {
    const session = this.session;
    if (!session) return;
    if (user.id === session.user.id && user !== session.user) {
      this.session = { ...session, user };
    }
    try {
      const since = this.roomEpoch;
      const { rooms } = await this.connection.request('get_user_rooms', {});
      this.setRooms(this.withLiveRooms(rooms, since));
      this.drainer?.resetBackoff();
      this.drainer?.kick();
      await this.sync.catchUp(rooms);
    } catch (error) {
      this.reportError(error);
      this.drainer?.kick();
    }
  }

  private async request(action: ActionName, data: Record<string, unknown>): Promise<unknown> {
    const reply = await this.connection.request(action, data);
    if (action === 'get_messages') {
      const page = reply as ReplyData<'get_messages'>;
      const roomId = String(data.roomId);
      const query: { before?: number; after?: number } = {};
      if (typeof data.before === 'number') query.before = data.before;
      if (typeof data.after === 'number') query.after = data.after;
      this.sync.observePage(roomId, query, page);
      this.cacheMessages(roomId, page.messages);
    } else if (action === 'create_room') {
      this.upsertRoom((reply as ReplyData<'create_room'>).room);
    }
    return reply;
  }

  private handleServerEvent(event: ServerEvent): void {
    switch (event.event) {
      case 'message_created':
        this.acceptMessage(event.data.message);
        return;
      case 'room_created':
        this.upsertRoom(event.data.room);
        this.emit({ type: 'room', room: event.data.room });
        return;
    }
  }

  /** A live message (event or acknowledgement): deliver, keep delivery gapless, bump its room. */
  private acceptMessage(message: Message): void {
    this.deliverMessages(message.roomId, [message]);
    this.sync.observeMessage(message);
  }

  private deliverMessages(roomId: string, incoming: Message[]): void {
    // A sender hears of its message twice (the reply and the event): deliver it once.
    const messages = incoming.filter((message) => this.delivered.add(message.id));
    if (messages.length === 0) return;
    this.emit({ type: 'messages', roomId, messages });
    const newest = messages.reduce<Message | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
    const room = this.rooms.find((r) => r.id === roomId);
    if (room && newest && newest.seq > room.lastSeq) {
      this.upsertRoom({ ...room, lastSeq: newest.seq, lastMessage: newest });
    }
    // Cache only what joins what a client holds: live messages of a room nobody opened would
    // leave the cache an island above a hole, shown as if it were the room's newest page.
    if (this.sync.watermark(roomId) !== undefined) this.cacheMessages(roomId, messages);
  }

  private upsertRoom(room: Room): void {
    const existing = this.rooms.find((r) => r.id === room.id);
    if (existing && existing.lastSeq > room.lastSeq) return;
    this.roomTouched.set(room.id, ++this.roomEpoch);
    this.setRooms([room, ...this.rooms.filter((r) => r.id !== room.id)]);
  }

  /**
   * A room list fetched while events kept arriving: rooms created or bumped by an event
   * since the request left may be newer than the reply, so the newer of each wins.
   */
  private withLiveRooms(fetched: Room[], since: number): Room[] {
    const byId = new Map(fetched.map((room) => [room.id, room]));
    for (const room of this.rooms) {
      if ((this.roomTouched.get(room.id) ?? 0) <= since) continue;
      const other = byId.get(room.id);
      if (!other || other.lastSeq < room.lastSeq) byId.set(room.id, room);
    }
    return [...byId.values()];
  }

  private setRooms(rooms: Room[]): void {
    this.rooms = sortRooms(rooms);
    this.emit({ type: 'rooms', rooms: this.rooms });
    const session = this.session;
    if (session) this.track(this.options.storage.cache.putRooms(session.user.id, this.rooms));
  }

  private cacheMessages(roomId: string, messages: Message[]): void {
    const session = this.session;
    if (!session || messages.length === 0) return;
    this.track(this.options.storage.cache.putMessages(session.user.id, roomId, messages));
  }

  /** A cache write in flight: its failure is reported, and `close` waits for it. */
  private track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => this.reportError(error));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  // ---------------------------------------------------------------- outbox

  /** Drains only while holding the Web Lock `chat:outbox:<userId>`: one flusher per user and origin. */
  private async startDrainer(userId: string): Promise<void> {
    this.stopDrainer();
    let lockHeld = false;
    const drainer = new OutboxDrainer({
      userId,
      outbox: this.options.storage.outbox,
      isOpen: () => lockHeld && this.connection.status === 'open',
      createMessage: (data) => this.connection.request('create_message', data),
      upload: (image) => {
        const token = this.session?.token;
        if (!token) return Promise.reject(new ChatError('UNAUTHENTICATED', 'not signed in'));
        return uploadImage(this.options.fetch, this.options.uploadUrl ?? uploadUrlFor(this.options.url), token, image);
      },
      backoff: this.backoff,
      onChange: (message) => this.emit({ type: 'outbox', message }),
      onRemoved: (roomId, clientId) => this.emit({ type: 'outbox-removed', roomId, clientId }),
      onSent: (message) => this.acceptMessage(message),
      onError: (error) => this.reportError(error),
    });
    this.drainer = drainer;
    await drainer.load();
    const lock = holdWebLock(`chat:outbox:${userId}`);
    this.releaseOutboxLock = lock.release;
    void lock.acquired.then(() => {
      lockHeld = true;
      if (this.drainer === drainer) drainer.kick();
    });
  }

  private stopDrainer(): void {
    this.drainer?.stop();
    this.drainer = null;
    this.releaseOutboxLock?.();
    this.releaseOutboxLock = null;
  }

  private requireDrainer(): OutboxDrainer {
    if (!this.drainer) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    return this.drainer;
  }

  private reportError(error: unknown): void {
    this.emit({ type: 'error', error: toChatError(error).toJSON() });
  }

  private emit(event: HostEvent): void {
    for (const listener of [...this.listeners]) listener(event);
  }
}

/** The last `capacity` ids seen; `add` says whether an id is new. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly capacity: number) {}

  add(id: string): boolean {
    if (this.ids.has(id)) return false;
    this.ids.add(id);
    if (this.ids.size > this.capacity) this.ids.delete(this.ids.values().next().value as string);
    return true;
  }
}

/** Most recent activity first: the last message's time, else the room's creation. */
export function sortRooms(rooms: readonly Room[]): Room[] {
  const activity = (room: Room) => room.lastMessage?.createdAt ?? room.createdAt;
  return [...rooms].sort((a, b) => activity(b) - activity(a) || (a.id < b.id ? -1 : 1));
}

/** The default of an exhaustive switch: a command added to HostCommand but not handled fails to compile. */
function unhandled(command: never): never {
  throw new ChatError('BAD_REQUEST', `unknown host command ${JSON.stringify(command)}`);
}
