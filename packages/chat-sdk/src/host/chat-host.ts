import EventEmitter from 'eventemitter3';
import { ChatError, type EventData, type EventName, type ReplyData, type ServerEvent, toChatError } from '../protocol/index.js';
import type { CommandHandlers, CommandResult, ConnectionState, HostCommand, HostEvent, HostSnapshot } from '../contract/host-api.js';
import type { HostContext } from '../contract/host-context.js';
import type { FetchLike, WebSocketConstructor } from '../contract/platform.js';
import type { ChatStorage } from '../storage/types.js';
import { HostPresence } from '../features/presence/host.js';
import { RoomList } from '../features/rooms/host.js';
import { ReadState } from '../features/read-state/host.js';
import { HostTyping } from '../features/typing/host.js';
import { HostChanges } from '../features/message-changes/host.js';
import { type Backoff, exponentialBackoff } from './backoff.js';
import { Connection } from './connection.js';
import { Delivery } from './delivery.js';
import { HostOutbox } from './outbox.js';
import { pacedReads } from './paced-reads.js';
import { HostSession } from './host-session.js';
import { uploadUrlFor } from './uploads.js';

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

/** One handler per server event: a new event of the protocol that nobody handles fails to compile. */
type ServerEventHandlers = { [E in EventName]: (data: EventData<E>) => void };

/**
 * The connection host: everything that must happen once per user and origin. It owns the
 * socket and composes the parts that live on it (the session, the room list, delivery,
 * the outbox), runs the clients' commands and tells every attached client what changed.
 * The same class runs in a tab, in a SharedWorker and in a leader tab; only the link that
 * carries its commands differs.
 */
export class ChatHost {
  private readonly events = new EventEmitter<{ event: [HostEvent] }>();
  private readonly connection: Connection;
  private readonly session: HostSession;
  private readonly rooms: RoomList;
  private readonly reads: ReadState;
  private readonly delivery: Delivery;
  private readonly outbox: HostOutbox;
  private readonly typing: HostTyping;
  private readonly presence: HostPresence;
  private readonly changes: HostChanges;
  /** The server's clock minus ours, measured at each sign-in. */
  private serverOffset = 0;
  private readonly writes = new Set<Promise<void>>();
  private connectionState: ConnectionState = { status: 'idle', attempt: 0 };
  private closed = false;
  private readonly onOnline = () => {
    this.connection.retryNow();
    this.outbox.sendNow();
  };

  private readonly commands: CommandHandlers = {
    snapshot: () => this.snapshot(),
    resume: (command) => this.session.resume(command.session),
    signUp: (command) => this.session.signUp(command.email, command.name),
    login: (command) => this.session.login(command.credentials),
    logout: () => this.session.logout(),
    reconnect: () => {
      this.connection.retryNow();
      this.outbox.sendNow();
    },
    history: async (command) => {
      const page = await this.delivery.history(command);
      if (command.before === undefined) this.changes.anchor(command.roomId, page.messages);
      return page;
    },
    cachedMessages: async (command) => {
      const session = this.session.current();
      return session ? this.options.storage.cache.getMessages(session.user.id, command.roomId) : [];
    },
    users: (command) => this.connection.request('get_users', command.query),
    createRoom: (command) => this.rooms.create(command),
    leaveRoom: (command) => this.rooms.leave(command),
    addMembers: (command) => this.rooms.addMembers(command),
    markRead: (command) => this.reads.mark(command),
    startTyping: (command) => this.typing.start(command.roomId),
    stopTyping: (command) => this.typing.stop(command.roomId),
    watchPresence: (command) => this.presence.watch(command.key),
    unwatchPresence: (command) => this.presence.unwatch(command.key),
    send: (command) => {
      this.typing.sent(command.row.roomId);
      return this.outbox.require().add(command.row);
    },
    retry: (command) => this.outbox.require().retry(command.clientId),
    discard: (command) => this.outbox.require().discard(command.clientId),
    change: (command) => this.outbox.require().addChange(command.row),
  };

  private readonly serverEvents: ServerEventHandlers = {
    message_created: ({ message }) => {
      this.typing.messageArrived(message);
      this.delivery.accept(message);
    },
    room_created: ({ room }) => {
      this.rooms.created(room);
      this.presence.roomCreated(room.memberIds);
    },
    members_added: ({ room }) => {
      this.rooms.membersAdded(room);
      this.presence.roomCreated(room.memberIds);
    },
    member_left: ({ roomId, userId }) => this.rooms.memberLeft(roomId, userId),
    read: (data) => this.reads.read(data),
    typing: (data) => this.typing.received(data),
    presence: (data) => this.presence.received(data),
    message_updated: ({ message }) => this.changes.live(message),
  };

  constructor(private readonly options: HostOptions) {
    const now = options.now ?? Date.now;
    const backoff = options.backoff ?? exponentialBackoff();
    this.connection = new Connection({
      url: options.url,
      WebSocket: options.WebSocket,
      backoff,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      pingIntervalMs: options.pingIntervalMs ?? 25_000,
      now,
      getToken: () => this.session.current()?.token ?? null,
      onAuthenticated: (reply) => void this.afterConnect(reply),
      onEvent: (event) => this.handleServerEvent(event),
      onSessionEnded: (reason) => void this.session.end(reason),
      onFault: (error) => this.emit({ type: 'error', error }),
      onState: (state) => {
        this.connectionState = state;
        this.emit({ type: 'connection', state });
      },
    });
    const context: HostContext = {
      storage: options.storage,
      session: () => this.session.current(),
      request: pacedReads((action, data) => this.connection.request(action, data)),
      emit: (event) => this.emit(event),
      track: (write) => this.track(write),
      report: (error) => this.report(error),
    };
    this.rooms = new RoomList(context, {
      onLeft: (roomId) => {
        this.delivery.forget(roomId);
        this.changes.forget(roomId);
      },
      overlay: (room) => this.reads.overlay(room),
    });
    this.changes = new HostChanges(context, this.rooms);
    this.reads = new ReadState(context, this.rooms, () => this.connection.status === 'open');
    this.delivery = new Delivery(context, this.rooms, (roomId, messages) => this.reads.delivered(roomId, messages));
    const isOpen = () => this.connection.status === 'open';
    this.typing = new HostTyping(context, { now, isOpen, serverOffset: () => this.serverOffset });
    this.presence = new HostPresence(context, isOpen);
    this.outbox = new HostOutbox(context, {
      fetch: options.fetch,
      uploadUrl: options.uploadUrl ?? uploadUrlFor(options.url),
      backoff,
      isOpen,
      onSent: (message) => this.delivery.accept(message),
      onChanged: (message) => this.changes.live(message, true),
      hold: (senderId, clientId) => this.changes.hold(senderId, clientId),
      release: (senderId, clientId) => this.changes.release(senderId, clientId),
      onRefused: (roomId) => this.changes.refused(roomId),
    });
    this.session = new HostSession(context, {
      url: options.url,
      now,
      connection: this.connection,
      isClosed: () => this.closed,
      afterConnect: (reply) => this.afterConnect(reply),
      started: async (session) => {
        await this.reads.load(session.user.id);
        await this.changes.load(session.user.id);
        await this.rooms.load(session);
        await this.outbox.start(session.user.id);
      },
      setAside: () => {
        this.outbox.stop();
        this.delivery.reset();
        this.rooms.reset();
        this.reads.reset();
        this.changes.reset();
        this.typing.reset();
        this.presence.reset();
      },
    });
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    target.addEventListener?.('online', this.onOnline);
  }

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.events.on('event', listener);
    return () => this.events.off('event', listener);
  }

  snapshot(): HostSnapshot {
    const session = this.session.current();
    return {
      connection: this.connectionState,
      session,
      // No session (yet: a host resuming one): no list to show, which is not an empty list.
      rooms: session ? this.rooms.current() : null,
      outbox: this.outbox.messages(),
      changes: this.outbox.changes(),
      typing: session ? this.typing.current() : [],
    };
  }

  /** Runs one command from a client. Every failure is a ChatError; after `close`, CLOSED. */
  async handle<C extends HostCommand>(command: C): Promise<CommandResult<C>> {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    const run = this.commands[command.type] as unknown as ((command: C) => CommandResult<C> | Promise<CommandResult<C>>) | undefined;
    if (!run) throw new ChatError('BAD_REQUEST', `unknown host command ${JSON.stringify(command.type)}`);
    try {
      return await run(command);
    } catch (error) {
      // Whatever failed because the host closed meanwhile (storage, the socket) failed for that reason.
      if (this.closed) throw new ChatError('CLOSED', 'the client was closed', { cause: error });
      throw toChatError(error);
    }
  }

  /** Stops everything; storage closes once the cache writes already started are done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    target.removeEventListener?.('online', this.onOnline);
    this.outbox.stop();
    this.reads.reset();
    this.connection.dispose();
    this.events.removeAllListeners();
    await Promise.allSettled([...this.writes]);
    this.options.storage.close();
  }

  /** On every (re)connect: refresh rooms, send the outbox, then catch up what clients hold. */
  private async afterConnect({ user, serverTime }: ReplyData<'create_connection'>): Promise<void> {
    this.serverOffset = serverTime - (this.options.now ?? Date.now)();
    if (!this.session.current()) return;
    this.session.refreshUser(user);
    try {
      const rooms = await this.rooms.refresh();
      this.presence.refresh();
      this.outbox.sendNow();
      this.reads.flush();
      await Promise.all([this.delivery.catchUp(rooms), this.changes.catchUp(rooms)]);
    } catch (error) {
      this.report(error);
      this.outbox.sendNow();
      this.reads.flush();
    }
  }

  private handleServerEvent(event: ServerEvent): void {
    (this.serverEvents[event.event] as (data: ServerEvent['data']) => void)(event.data);
  }

  /** A cache write in flight: its failure is reported, and `close` waits for it. */
  private track(write: Promise<void>): void {
    const tracked = write.catch((error: unknown) => this.report(error));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
  }

  private report(error: unknown): void {
    this.emit({ type: 'error', error: toChatError(error).toJSON() });
  }

  private emit(event: HostEvent): void {
    this.events.emit('event', event);
  }
}
