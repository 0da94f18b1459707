import EventEmitter from 'eventemitter3';
import { nanoid } from 'nanoid';
import {
  ChatError,
  MAX_TEXT_CHARS,
  PROTOCOL_VERSION,
  type RequestInput,
  type Room,
  type User,
  codePointLength,
  isEmoji,
  parseRequestData,
  toChatError,
} from '../protocol/index.js';
import { type ChatChange, toChatChange } from '../contract/message-changes.js';
import { quoteOf } from '../features/message-changes/client.js';
import type { ChangeOp, ChangeRow } from '../storage/types.js';
import {
  type ConnectionState,
  type HostEvent,
  type HostEventHandlers,
  type HostLink,
  type LoginCredentials,
  type Session,
  snapshotEvents,
} from '../contract/host-api.js';
import { ClientPresence } from '../features/presence/client.js';
import type { PresenceMap } from '../contract/presence.js';
import { ClientRooms } from '../features/rooms/client.js';
import { type Receipts, receiptsOf } from '../features/read-state/client.js';
import { ClientTyping } from '../features/typing/client.js';
import type { TypingState } from '../contract/typing.js';
import type { ChatClient, ChatClientEvents, SessionStatus, Transport, UsersQuery } from './chat-client-api.js';
import { Outgoing } from './outgoing.js';
import type { DraftsApi } from './drafts-api.js';
import { RoomHistory } from './room-history.js';
import type { ChatMessage, RoomMessagesSnapshot } from '../contract/chat-message.js';
import { RoomMessages } from './room-messages.js';
import { checkSendInput, type SendInput } from './send-input.js';
import { type Store, ValueStore } from '../contract/store.js';
import { UsersDirectory, type UsersInput, type UsersState } from './users-directory.js';

export interface ChatClientParts {
  link: HostLink;
  /** Where the host runs; it changes when a shared host cannot be used after all. */
  transport: Store<Transport>;
  /** Resolves when the client can take commands (storage open, stored session resumed). */
  ready: Promise<unknown>;
  drafts: (session: () => Session | null) => DraftsApi & { flush(): Promise<void>; close(): Promise<void> };
}

/**
 * The `ChatClient` of a tab (or a Node process) over a link to its connection host. The
 * stores are this tab's own; everything that must happen once (the socket, the outbox) is
 * the host's, reached through the link. Method docs are on the `ChatClient` interface.
 */
export class LinkedChatClient extends EventEmitter<ChatClientEvents> implements ChatClient {
  readonly connection: Store<ConnectionState>;
  readonly session: Store<Session | null>;
  readonly sessionStatus: Store<SessionStatus>;
  readonly rooms: Store<Room[]>;
  readonly drafts: DraftsApi;
  readonly ready: Promise<void>;

  private readonly link: HostLink;
  private readonly connectionStore = new ValueStore<ConnectionState>({ status: 'idle', attempt: 0 });
  private readonly sessionStore = new ValueStore<Session | null>(null);
  private readonly sessionStatusStore = new ValueStore<SessionStatus>('resuming');
  private readonly transportStore: Store<Transport>;
  /** The room list's client part (a feature slice: features/rooms/). */
  private readonly roomsPart = new ClientRooms(
    (command) => this.link.call(command),
    (room) => this.emit('room', room),
  );
  /** Typing and presence (slices: features/typing/, features/presence/). */
  private readonly typingPart = new ClientTyping();
  private readonly presencePart = new ClientPresence((command) => this.link.call(command));
  private readonly roomMessages = new Map<string, RoomMessages>();
  /** This tab's unsent messages (the one place the client keeps them). */
  private readonly outgoing = new Outgoing({
    call: (command) => this.link.call(command),
    show: (message) => this.roomMessages.get(message.roomId)?.addPending(message),
    hide: (roomId, clientId, senderId) => void this.roomMessages.get(roomId)?.remove(clientId, senderId),
    failed: (message) => this.emit('failed', message),
    report: (error) => this.report(error),
    draftSent: (roomId) => void this.draftSync.clear(roomId).catch((error: unknown) => this.report(error)),
  });
  private readonly history: RoomHistory;
  /** The user's unacknowledged message changes (the host's outbox reports them), by clientChangeId. */
  private readonly changes = new Map<string, ChatChange>();
  /** Changes the host could not store (kept here so `retry` can hand them over again). */
  private readonly unstored = new Map<string, ChangeRow>();
  private readonly changeSaves = new Set<Promise<void>>();
  /** `directory` stores; each asks through `users`, as the signed-in user. */
  private readonly usersDirectory = new UsersDirectory(
    (input) => this.users(input),
    () => this.sessionStore.getSnapshot()?.user.id ?? null,
  );
  private readonly draftSync: ReturnType<ChatClientParts['drafts']>;
  private readonly unsubscribe: () => void;
  private closed = false;
  private readonly onPageHide = () => void this.draftSync.flush();

  constructor(parts: ChatClientParts) {
    super();
    this.link = parts.link;
    this.transportStore = parts.transport;
    this.transportStore.subscribe(() => this.emit('transport', this.transportStore.getSnapshot()));
    this.connection = this.connectionStore;
    this.session = this.sessionStore;
    this.sessionStatus = this.sessionStatusStore;
    this.rooms = this.roomsPart.store;
    this.draftSync = parts.drafts(() => this.sessionStore.getSnapshot());
    const { flush: _flush, close: _close, ...drafts } = this.draftSync;
    this.drafts = drafts;
    this.history = new RoomHistory({
      fetch: (query) => this.link.call({ type: 'history', ...query }),
      cached: (roomId) => this.link.call({ type: 'cachedMessages', roomId }),
      isOpen: () => this.connectionStore.getSnapshot().status === 'open',
      report: (error) => this.report(error),
    });
    this.unsubscribe = this.link.subscribe((event) => this.handleHostEvent(event));
    this.ready = parts.ready
      .then(() => this.link.call({ type: 'snapshot' }))
      .then((snapshot) => {
        for (const event of snapshotEvents(snapshot)) this.handleHostEvent(event);
        return this.link.call({ type: 'resume' });
      })
      .then(
        (session) => this.resumed(session),
        (error: unknown) => {
          this.resumed(null);
          throw error;
        },
      );
    this.ready.catch((error: unknown) => this.report(error));
    const target = globalThis as { addEventListener?: (type: string, listener: () => void) => void };
    target.addEventListener?.('pagehide', this.onPageHide);
  }

  get transport(): Transport {
    return this.transportStore.getSnapshot();
  }

  // ---------------------------------------------------------------- session

  signUp(input: { email: string; name?: string }): Promise<User> {
    return this.settle(async () => {
      const parsed = parseRequestData('create_user', input);
      if (!parsed.ok) throw parsed.error;
      await this.ready;
      const command: { type: 'signUp'; email: string; name?: string } = { type: 'signUp', email: parsed.value.email };
      if (parsed.value.name !== undefined) command.name = parsed.value.name;
      return this.link.call(command);
    });
  }

  login(credentials: LoginCredentials): Promise<User> {
    return this.settle(async () => {
      const parsed = parseRequestData('create_connection', { protocolVersion: PROTOCOL_VERSION, ...(credentials as object) });
      if (!parsed.ok) throw parsed.error;
      await this.ready;
      const clean: LoginCredentials = parsed.value.token !== undefined ? { token: parsed.value.token } : { email: parsed.value.email ?? '' };
      return this.link.call({ type: 'login', credentials: clean });
    });
  }

  logout(): Promise<void> {
    return this.settle(async () => {
      await this.ready;
      await this.draftSync.flush();
      await this.link.call({ type: 'logout' });
    });
  }

  reconnect(): Promise<void> {
    return this.settle(async () => {
      if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
      await this.ready;
      await this.link.call({ type: 'reconnect' });
    });
  }

  // ---------------------------------------------------------------- rooms and users

  createRoom(input: { memberIds: string[]; name?: string | null }): Promise<Room> {
    return this.settle(async () => {
      return this.roomsPart.create(input, this.requireSession().user.id);
    });
  }

  leaveRoom(roomId: string, options: { block?: boolean } = {}): Promise<void> {
    return this.settle(async () => {
      this.requireSession();
      await this.roomsPart.leave(roomId, options.block === true);
    });
  }

  addMembers(roomId: string, userIds: string[]): Promise<Room> {
    return this.settle(async () => {
      this.requireSession();
      return this.roomsPart.addMembers(roomId, userIds);
    });
  }

  users(input: UsersQuery | { ids: string[] } = {}): Promise<{ users: User[]; nextCursor: string | null }> {
    return this.settle(async () => {
      const parsed = parseRequestData('get_users', input as RequestInput<'get_users'>);
      if (!parsed.ok) throw parsed.error;
      this.requireSession();
      return this.link.call({ type: 'users', query: parsed.value });
    });
  }

  directory(input: UsersInput): Store<UsersState> {
    return this.usersDirectory.store(input);
  }

  markRead(roomId: string, seq?: number): Promise<void> {
    return this.settle(async () => {
      const parsed = parseRequestData('mark_read', { roomId, seq: seq ?? 0 });
      if (!parsed.ok) throw parsed.error;
      await this.ready;
      this.requireSession();
      return this.link.call({ type: 'markRead', roomId, seq });
    });
  }

  receipts(roomId: string): Store<Receipts> {
    return receiptsOf(this.rooms, roomId);
  }

  // ---------------------------------------------------------------- typing and presence

  // Fire and forget: the host throttles, and a lost typing frame only shortens an indicator.
  startTyping(roomId: string): void {
    this.link.call({ type: 'startTyping', roomId }).catch(() => undefined);
  }

  stopTyping(roomId: string): void {
    this.link.call({ type: 'stopTyping', roomId }).catch(() => undefined);
  }

  typing(roomId: string): Store<TypingState> {
    return this.typingPart.store(roomId);
  }

  presence(userIds: readonly string[]): Store<PresenceMap> {
    return this.presencePart.store(userIds);
  }

  // ---------------------------------------------------------------- messages

  messages(roomId: string): Store<RoomMessagesSnapshot> {
    return this.roomStore(roomId);
  }

  loadOlder(roomId: string): Promise<void> {
    return this.settle(() => this.history.loadOlder(this.roomStore(roomId)));
  }


  send(roomId: string, input: SendInput): ChatMessage {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    if (typeof roomId !== 'string' || roomId === '') throw new ChatError('BAD_REQUEST', 'roomId must be a non-empty string');
    const { text, image } = checkSendInput(input);
    const session = this.sessionStore.getSnapshot();
    const resuming = !session && this.sessionStatusStore.getSnapshot() === 'resuming';
    if (!session && !resuming) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    if (session && !this.roomsPart.has(roomId)) {
      throw new ChatError('NOT_FOUND', `no room ${roomId} among this user's rooms`);
    }
    const replyTo = (input as SendInput).replyTo;
    let parent: ChatMessage | undefined;
    if (replyTo !== undefined) {
      if (typeof replyTo !== 'string') throw new ChatError('BAD_REQUEST', 'replyTo must be a message id or clientId');
      parent = this.find(roomId, replyTo);
    }
    const ref = parent && { id: parent.id, clientId: parent.clientId, senderId: parent.senderId, quote: quoteOf(parent) };
    return this.outgoing.add(roomId, text, image, session?.user.id ?? null, ref);
  }

  edit(roomId: string, key: string, input: { text: string }): ChatChange {
    const text = (input as { text?: unknown } | null)?.text;
    if (typeof text !== 'string') throw new ChatError('BAD_REQUEST', 'edit takes { text }');
    if (codePointLength(text) > MAX_TEXT_CHARS) throw new ChatError('TOO_LARGE', `text is longer than ${MAX_TEXT_CHARS} characters`);
    const target = this.target(roomId, key, true);
    if (text.trim() === '' && !target.image && !target.localImage) throw new ChatError('BAD_REQUEST', 'only a message with an image may have a blank text');
    return this.change(target, { kind: 'edit', text });
  }

  delete(roomId: string, key: string): ChatChange {
    return this.change(this.target(roomId, key, true, true), { kind: 'delete' });
  }

  react(roomId: string, key: string, emoji: string): ChatChange {
    return this.reaction(roomId, key, emoji, true);
  }

  unreact(roomId: string, key: string, emoji: string): ChatChange {
    return this.reaction(roomId, key, emoji, false);
  }

  retry(clientId: string): Promise<void> {
    return this.settle(async () => {
      const unstored = this.unstored.get(clientId);
      if (unstored) return this.store(unstored);
      const held = this.outgoing.retryHeld(clientId, this.requireSession().user.id);
      return held === false ? this.link.call({ type: 'retry', clientId }) : held;
    });
  }

  discard(clientId: string): Promise<void> {
    return this.settle(async () => {
      const unstored = this.unstored.get(clientId);
      if (unstored) return this.hostEvents.changeRemoved({ type: 'changeRemoved', roomId: unstored.roomId, clientChangeId: clientId });
      if (this.outgoing.discardHeld(clientId)) return;
      return this.link.call({ type: 'discard', clientId });
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const target = globalThis as { removeEventListener?: (type: string, listener: () => void) => void };
    target.removeEventListener?.('pagehide', this.onPageHide);
    this.unsubscribe();
    this.connectionStore.set({ status: 'closed', attempt: 0 });
    this.removeAllListeners();
    // Messages sent while resuming go to the outbox once the session is back (`resumed` runs first).
    await this.ready.catch(() => undefined);
    await this.outgoing.settled();
    await Promise.allSettled([...this.changeSaves]);
    await this.draftSync.close().catch(() => undefined);
    await this.link.close();
  }

  /**
   * Runs a public call. One still in flight when `close()` comes rejects with CLOSED for
   * whoever awaits it, but an app that did not await it (a click handler's `void login()`)
   * gets no unhandled rejection for a client it closed itself.
   */
  private settle<T>(run: () => Promise<T>): Promise<T> {
    const result = new Promise<T>((resolve, reject) => {
      run().then(resolve, (error: unknown) => {
        if (this.closed) result.catch(() => undefined);
        reject(error);
      });
    });
    return result;
  }

  /** The stored session is back, or none was: the status settles and sends made meanwhile go on. */
  private resumed(resumedSession: Session | null): void {
    // The session event may not have reached a client closed meanwhile; the reply did.
    const session = this.sessionStore.getSnapshot() ?? resumedSession;
    this.sessionStatusStore.set(session ? 'signed-in' : 'signed-out');
    this.outgoing.resumed(session);
  }

  // ---------------------------------------------------------------- message changes

  private reaction(roomId: string, key: string, emoji: string, on: boolean): ChatChange {
    if (!isEmoji(emoji)) throw new ChatError('BAD_REQUEST', 'emoji must be one emoji sequence');
    return this.change(this.target(roomId, key, false), { kind: 'react', emoji, on });
  }

  /** A message of a room as shown, by id or clientId (NOT_FOUND when this tab holds none such). */
  private find(roomId: string, key: string): ChatMessage {
    const found =
      this.roomMessages.get(roomId)?.find(key) ?? (typeof key === 'string' ? this.outgoing.get(key) : undefined);
    if (!found || found.roomId !== roomId) throw new ChatError('NOT_FOUND', `no message ${String(key)} in room ${roomId}`);
    return found;
  }

  /** The message a change is for, checked as the server would: own only for edits and deletes, none to a tombstone. */
  private target(roomId: string, key: string, own: boolean, tombstoneOk = false): ChatMessage {
    if (this.closed) throw new ChatError('CLOSED', 'the client was closed');
    const me = this.requireSession().user.id;
    if (!this.roomsPart.has(roomId)) throw new ChatError('NOT_FOUND', `no room ${roomId} among this user's rooms`);
    const target = this.find(roomId, key);
    if (own && target.senderId !== me) throw new ChatError('FORBIDDEN', "only its sender may change a message");
    if (target.deletedAt !== undefined && !tombstoneOk) throw new ChatError('CONFLICT', 'the message was deleted');
    return target;
  }

  /** A change shown at once (pending), then stored in the outbox, which sends it after what the room holds. */
  private change(target: ChatMessage, op: ChangeOp): ChatChange {
    const now = Date.now();
    const row: ChangeRow = {
      clientChangeId: nanoid(),
      userId: this.requireSession().user.id,
      roomId: target.roomId,
      messageId: target.id,
      clientId: target.clientId,
      senderId: target.senderId,
      op,
      createdAt: now,
      order: this.outgoing.nextOrder(now),
      attempts: 0,
      lastError: null,
      status: 'pending',
    };
    const change = toChatChange(row);
    this.hostEvents.change({ type: 'change', change });
    void this.store(row);
    return change;
  }

  private store(row: ChangeRow): Promise<void> {
    this.unstored.delete(row.clientChangeId);
    this.hostEvents.change({ type: 'change', change: toChatChange(row) });
    const saving = this.link.call({ type: 'change', row }).catch((error: unknown) => {
      // Not even stored: shown failed, kept here for `retry`.
      const failure = toChatError(error);
      this.unstored.set(row.clientChangeId, row);
      this.hostEvents.change({ type: 'change', change: { ...toChatChange(row), status: 'failed', error: failure.toJSON() } });
      this.report(failure);
    });
    this.changeSaves.add(saving);
    void saving.finally(() => this.changeSaves.delete(saving));
    return saving;
  }

  // ---------------------------------------------------------------- internals

  private roomStore(roomId: string): RoomMessages {
    let store = this.roomMessages.get(roomId);
    if (store) return store;
    store = new RoomMessages(roomId, () => this.sessionStore.getSnapshot()?.user.id);
    this.roomMessages.set(roomId, store);
    // Messages sent while resuming have no sender yet ('').
    for (const message of this.outgoing.inRoom(roomId, this.sessionStore.getSnapshot()?.user.id ?? '')) store.addPending(message);
    for (const change of this.changes.values()) store.setChange(change);
    void this.history.open(store, this.ready);
    return store;
  }

  /** One handler per host event (a new event nobody handles fails to compile). */
  private readonly hostEvents: HostEventHandlers = {
    connection: (event) => {
      this.connectionStore.set(event.state);
      this.emit('connection', event.state);
      if (event.state.status === 'open') this.history.syncWaiting(this.roomMessages);
    },
    session: (event) => {
      const previous = this.sessionStore.getSnapshot();
      if (previous?.token === event.session?.token && previous?.user.id === event.session?.user.id) return;
      if (previous && previous.user.id !== event.session?.user.id) {
        // Another user's rooms and messages must never show: drop them (the host sends the new user's).
        this.roomsPart.clear();
        this.roomMessages.clear();
        this.outgoing.clear();
        this.changes.clear();
        this.unstored.clear();
        this.history.reset();
        this.usersDirectory.reset();
      }
      this.sessionStore.set(event.session);
      // While resuming, "no session yet" is not "signed out": `resumed` settles that.
      if (event.session) this.sessionStatusStore.set('signed-in');
      else if (this.sessionStatusStore.getSnapshot() !== 'resuming') this.sessionStatusStore.set('signed-out');
      this.emit('session', event.session, event.reason);
    },
    ...this.roomsPart.hostEvents,
    ...this.typingPart.hostEvents,
    ...this.presencePart.hostEvents,
    messages: (event) => {
      this.outgoing.delivered(event.messages);
      this.roomMessages.get(event.roomId)?.mergeServer(event.messages);
      this.emit('messages', event.roomId, event.messages);
    },
    outbox: (event) => {
      this.outgoing.track(event.message);
      if (event.message.status === 'failed') this.emit('failed', event.message);
    },
    outboxRemoved: (event) => this.outgoing.removed(event.roomId, event.clientId),
    change: ({ change }) => {
      const held = this.changes.get(change.clientChangeId);
      this.changes.set(change.clientChangeId, change);
      this.roomMessages.get(change.roomId)?.setChange(change);
      if (change.status === 'failed' && held?.status !== 'failed') this.emit('changeFailed', change);
    },
    changeRemoved: ({ roomId, clientChangeId, message }) => {
      this.changes.delete(clientChangeId);
      this.unstored.delete(clientChangeId);
      const store = this.roomMessages.get(roomId);
      store?.batch(() => {
        if (message) store.mergeUpdates([message]);
        store.removeChange(clientChangeId);
      });
    },
    messageUpdates: ({ roomId, messages }) => {
      this.roomMessages.get(roomId)?.mergeUpdates(messages);
      this.emit('updated', roomId, messages);
    },
    error: (event) => this.report(toChatError(event.error)),
    resync: () => {
      this.history.markStale(this.roomMessages.keys());
      this.presencePart.resync();
      // Changes told while this tab was away: the host's cache holds them for the rooms it holds.
      for (const [roomId, store] of this.roomMessages) {
        this.link.call({ type: 'cachedMessages', roomId }).then((cached) => store.mergeUpdates(cached), () => undefined);
      }
    },
  };

  private handleHostEvent(event: HostEvent): void {
    (this.hostEvents[event.type] as ((event: HostEvent) => void) | undefined)?.(event);
  }

  private requireSession(): Session {
    const session = this.sessionStore.getSnapshot();
    if (!session) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    return session;
  }

  private report(error: unknown): void {
    if (this.closed) return;
    this.emit('error', toChatError(error));
  }
}
