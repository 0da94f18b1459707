import type { Emitter } from '../contract/emitter.js';
import type { ChatError, Message, Room, User } from '../protocol/index.js';
import type { ConnectionState, LoginCredentials, Session } from '../contract/host-api.js';
import type { DraftsApi } from './drafts-api.js';
import type { ChatMessage, RoomMessagesSnapshot } from '../contract/chat-message.js';
import type { SendInput } from './send-input.js';
import type { Store } from '../contract/store.js';
import type { PresenceMap } from '../contract/presence.js';
import type { TypingState } from '../contract/typing.js';
import type { ChatChange } from '../contract/message-changes.js';

/**
 * Where this tab's connection host runs: in the SDK's SharedWorker, in a leader tab's worker,
 * or this tab's own (`'in-tab'`: in process with `inTab`, as in Node and tests, else in this
 * tab's own worker).
 */
export type Transport = 'shared-worker' | 'leader' | 'in-tab';

/**
 * Whether someone is signed in in this tab. `'resuming'` from creation until a stored
 * session is in place (cached rooms shown, sends queued) or none was found.
 */
export type SessionStatus = 'resuming' | 'signed-in' | 'signed-out';

/** Typed events of `client.on`. */
export interface ChatClientEvents {
  /** Server messages arrived for a room (live, acknowledged, or caught up). */
  messages: [roomId: string, messages: Message[]];
  /** A room the user belongs to was created (by them or someone else). */
  room: [room: Room];
  connection: [state: ConnectionState];
  /** The host moved (a SharedWorker that could not load: this tab now runs its own). */
  transport: [transport: Transport];
  /** Signed in, or signed out (`reason` says why when the server ended it). */
  session: [session: Session | null, reason?: 'revoked' | 'rejected' | 'logout'];
  /** A message could not be sent and needs the user: retry or discard it. */
  failed: [message: ChatMessage];
  /** A change (edit, delete, reaction) was refused or could not be sent: it no longer shows; retry or discard it. */
  changeFailed: [change: ChatChange];
  /** Messages of a room changed on the server (edited, deleted, reacted to), live or caught up. */
  updated: [roomId: string, messages: Message[]];
  /** A fault that failed no call: a malformed frame, a storage error, a 1008/1009 close. */
  error: [error: ChatError];
}

export interface UsersQuery {
  query?: string;
  limit?: number;
  cursor?: string;
}

/** A directory question: a search (`UsersQuery`) or users by id (`{ ids }`, to name senders). */
export type UsersInput = UsersQuery | { ids: string[] };

/** One directory answer, as the value of a `directory` store. */
export interface UsersState {
  readonly users: readonly User[];
  /** Pass it as `cursor` for the next page; null on the last one. */
  readonly nextCursor: string | null;
  readonly loading: boolean;
  readonly error: ChatError | null;
}

/** Listening to a client's events (eventemitter3's methods, by the SDK's own `Emitter`; emitting is the client's own business). */
export type ChatClientEventSource = Pick<
  Emitter<ChatClientEvents>,
  'on' | 'once' | 'off' | 'addListener' | 'removeListener' | 'listeners' | 'listenerCount'
>;

/**
 * What an app holds (from `createChatClient`): live stores for its UI, and the commands of
 * the chat. Every store is this tab's own; the socket and the outbox are shared.
 */
export interface ChatClient extends ChatClientEventSource {
  /** Where the connection host runs now; the `transport` event tells of a change. */
  readonly transport: Transport;
  /** The connection to the server, as docs/api.md's state table says. */
  readonly connection: Store<ConnectionState>;
  /** The signed-in user and token of this tab, or null. */
  readonly session: Store<Session | null>;
  /** `'resuming'` until a stored session is back (or known absent), then signed in or out. */
  readonly sessionStatus: Store<SessionStatus>;
  /** The user's rooms, most recent activity first. */
  readonly rooms: Store<Room[]>;
  /** One draft (text and image) per room, kept in IndexedDB and in step across tabs. */
  readonly drafts: DraftsApi;
  /**
   * Resolves once a stored session (if any) is restored. `login` waits for it by itself;
   * `send` before it is queued and goes out once the session is back.
   */
  readonly ready: Promise<void>;

  /** Creates an account and signs in with it (the reference server's email sign-in); switches user like `login`. */
  signUp(input: { email: string; name?: string }): Promise<User>;
  /**
   * Signs in by email (development sign-in) or with a token (a session token or an
   * app-minted JWT). Signed in already as someone else, this tab switches to that user;
   * the other user stays signed in in their own tabs and stored for later.
   */
  login(credentials: LoginCredentials): Promise<User>;
  /** Signs out: the session, drafts and cached rooms of this user go; unsent messages stay for the next login. */
  logout(): Promise<void>;
  /** Connects now, skipping the backoff wait (a "retry now" button); the outbox is retried at once too. */
  reconnect(): Promise<void>;

  /** Creates a room; resent after a lost connection or a restarted host, it still makes one room. */
  createRoom(input: { memberIds: string[]; name?: string | null }): Promise<Room>;
  /**
   * Leaves a room: it goes from `rooms` here and in the user's other tabs and devices; the
   * others keep it and its history. With `block: true`, whoever added the user to it can no
   * longer add them to any room. Not a member: FORBIDDEN.
   */
  leaveRoom(roomId: string, options?: { block?: boolean }): Promise<void>;
  /**
   * Adds people to a room the user is in (any member may); members already in are skipped.
   * Resolves with the room as it is now. Over 100 members: TOO_LARGE; someone who blocked
   * the user: FORBIDDEN.
   */
  addMembers(roomId: string, userIds: string[]): Promise<Room>;
  /**
   * Marks a room read up to `seq` (default: its newest message). Idempotent and coalesced:
   * the cursor never moves back. Durable like a message: it resolves once the cursor is
   * stored, goes to the server when connected (after a reload or offline period too), and
   * the room's `unreadCount` drops at once in every tab of the user.
   */
  markRead(roomId: string, seq?: number): Promise<void>;
  /** "Seen by": each member's read cursor in a room (user id -> the highest seq read), live. */
  receipts(roomId: string): Store<Readonly<Record<string, number>>>;
  /** The directory: by name prefix or whole email, paged, or by ids (to name senders). Others' `email` may be '' (the server's choice). */
  users(input?: UsersQuery | { ids: string[] }): Promise<{ users: User[]; nextCursor: string | null }>;
  /**
   * The user directory as a live store: the answer to `users(input)`, shared by everyone
   * asking the same thing (compared by value), fetched on first subscribe (never before),
   * kept 30 s after the last subscriber leaves and forgotten when another user signs in.
   * Bad input throws a ChatError (BAD_REQUEST) at once; so does calling it signed out.
   */
  directory(input: UsersInput): Store<UsersState>;

  /**
   * Says the user is typing in a room: call it on every keystroke. The SDK sends one frame
   * per few seconds for all the user's tabs together, and none while offline.
   */
  startTyping(roomId: string): void;
  /** Says the user stopped typing (the input was cleared or lost focus). Sending a message stops it too. */
  stopTyping(roomId: string): void;
  /** Who else is typing in a room now (the signed-in user never included); entries end by themselves. */
  typing(roomId: string): Store<TypingState>;
  /**
   * The presence of some users, live: `{ [userId]: { online, lastSeenAt } }` for those whose
   * presence the server tells this user (people who share a room with them); others are
   * left out. One store per set of ids (compared by value); watched while subscribed.
   */
  presence(userIds: readonly string[]): Store<PresenceMap>;

  /** The live messages of a room. The first call loads its cached and newest messages. */
  messages(roomId: string): Store<RoomMessagesSnapshot>;
  /** Loads the page of history just above the oldest held message. */
  loadOlder(roomId: string): Promise<void>;
  /**
   * Sends a message. Synchronous: the returned message is already in the room's store,
   * `pending`, keyed by its `clientId`; it turns `sent` or `failed` later. Bad input
   * throws a ChatError at once and stores nothing. While a stored session is resuming the
   * message is queued; it fails with UNAUTHENTICATED if no session comes back.
   */
  send(roomId: string, input: SendInput): ChatMessage;
  /**
   * Edits the text of one of the user's messages, named by its `clientId` or its server `id`.
   * Synchronous and optimistic like `send`: the store shows the new text at once (the message
   * lists the change in `changes`, pending) and the change goes through the outbox, after the
   * message itself if that is still unsent. Another's message: FORBIDDEN; a deleted one:
   * CONFLICT; unknown: NOT_FOUND; over 4000 characters: TOO_LARGE.
   */
  edit(roomId: string, key: string, input: { text: string }): ChatChange;
  /** Deletes one of the user's messages (it stays as a tombstone: `deletedAt`, no text or image). */
  delete(roomId: string, key: string): ChatChange;
  /** Adds the user's reaction (one emoji, else BAD_REQUEST) to any message of the room. */
  react(roomId: string, key: string, emoji: string): ChatChange;
  /** Takes the user's reaction back. */
  unreact(roomId: string, key: string, emoji: string): ChatChange;
  /** Sends a failed message, or a failed change (by its `clientChangeId`), again. */
  retry(clientId: string): Promise<void>;
  /** Forgets a failed message (with the changes waiting on it), or a change, for good. */
  discard(clientId: string): Promise<void>;
  /**
   * Closes the client: the socket (unless other tabs share it) and storage. Messages just
   * sent (even while resuming) are written to the outbox first, and drafts flushed; the
   * promise resolves then. Calls still in flight reject with CLOSED.
   */
  close(): Promise<void>;
}
