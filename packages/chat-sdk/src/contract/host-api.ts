import type { ChatErrorData, Message, ReplyData, RequestInput, Room, User } from '../protocol/index.js';
import type { PresenceCommand, PresenceEvent, PresenceResults } from './presence.js';
import type { RoomsCommand, RoomsEvent, RoomsResults } from './rooms.js';
import type { ReadCommand, ReadResults } from './read-state.js';
import type { TypingCommand, TypingEvent, TypingResults } from './typing.js';
import type { ChatMessage } from './chat-message.js';
import type { ChangesCommand, ChangesEvent, ChangesResults, ChatChange } from './message-changes.js';
import type { OutboxRow } from '../storage/types.js';

/**
 * The small protocol between a client (one per tab or process) and the connection host
 * (in process, in a SharedWorker, or in a leader tab). Everything here is plain data so it
 * can cross a MessagePort or a BroadcastChannel by structured clone (Blobs included).
 */

export type ConnectionStatus = 'idle' | 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface ConnectionState {
  status: ConnectionStatus;
  /** Reconnect attempts since the last successful connection. */
  attempt: number;
  /** When the next reconnect try happens (ms since epoch), while reconnecting. */
  nextRetryAt?: number;
  /** Why the last connection ended or failed. */
  error?: ChatErrorData;
}

export interface Session {
  user: User;
  token: string;
}

export type LoginCredentials = { email: string } | { token: string };

/** Requests a client makes of its host; each gets exactly one result (`CommandResult`). */
export type HostCommand =
  | { type: 'signUp'; email: string; name?: string }
  | { type: 'login'; credentials: LoginCredentials }
  /** Picks up the stored session; a shared host passes the session a tab shows instead. */
  | { type: 'resume'; session?: Session }
  | { type: 'logout' }
  /** Connect now with a fresh backoff (and resend the outbox now). */
  | { type: 'reconnect' }
  /** The host's state, for a client that (re)attaches. */
  | { type: 'snapshot' }
  /** A page of a room's history (`get_messages`); the host keeps delivery gapless and caches it. */
  | { type: 'history'; roomId: string; before?: number; after?: number; limit?: number }
  /** The messages of a room kept in storage, for a page reloaded offline. */
  | { type: 'cachedMessages'; roomId: string }
  /** The user directory (`get_users`), passed straight through. */
  | { type: 'users'; query: RequestInput<'get_users'> }
  | { type: 'send'; row: OutboxRow }
  /** A failed message or change (`clientId` may be a `clientChangeId`) goes out again. */
  | { type: 'retry'; clientId: string }
  /** A message or change (`clientId` may be a `clientChangeId`) is forgotten. */
  | { type: 'discard'; clientId: string }
  | RoomsCommand
  | ReadCommand
  | TypingCommand
  | PresenceCommand
  | ChangesCommand;

/** What each command resolves with. A command missing here fails to compile. */
interface CommandResults extends RoomsResults, ReadResults, TypingResults, PresenceResults, ChangesResults {
  signUp: User;
  login: User;
  resume: Session | null;
  logout: void;
  reconnect: void;
  snapshot: HostSnapshot;
  history: ReplyData<'get_messages'>;
  cachedMessages: Message[];
  users: ReplyData<'get_users'>;
  send: void;
  retry: void;
  discard: void;
}

export type CommandResult<C extends HostCommand> = CommandResults[C['type']];

/** One handler per command: a host lists them all, so a new command nobody runs fails to compile. */
export type CommandHandlers = {
  [T in HostCommand['type']]: (command: Extract<HostCommand, { type: T }>) => CommandResults[T] | Promise<CommandResults[T]>;
};

/** The host's shared state, sent whole to a client that (re)attaches. */
export interface HostSnapshot {
  connection: ConnectionState;
  session: Session | null;
  /** Null while a host that is starting has not read them yet (a tab must not be blanked). */
  rooms: Room[] | null;
  /** Every unsent message of the session's user: pending or failed. */
  outbox: ChatMessage[];
  /** Every unacknowledged message change of the user: pending or failed. */
  changes?: ChatChange[];
  /** Others typing now (who would otherwise show only from their next refresh). */
  typing?: Array<Omit<TypingEvent, 'type'>>;
}

/** What the host tells every attached client. */
export type HostEvent =
  | { type: 'connection'; state: ConnectionState }
  | { type: 'session'; session: Session | null; reason?: 'revoked' | 'rejected' | 'logout' }
  /** Server messages to merge: live events, send acknowledgements, catch-up and gap fills. */
  | { type: 'messages'; roomId: string; messages: Message[] }
  /** A local message was queued or changed state (pending again after retry, or failed). */
  | { type: 'outbox'; message: ChatMessage }
  | { type: 'outboxRemoved'; roomId: string; clientId: string }
  /** An unsent message's image upload moved on (a tenth more, or 250 ms later, and the end). */
  | { type: 'upload'; roomId: string; clientId: string; loaded: number; total: number }
  /** A fault worth reporting that failed no request: a malformed frame, a 1008/1009 close. */
  | { type: 'error'; error: ChatErrorData }
  /**
   * This client was away from its host (the host restarted, dropped it for missed pings, or
   * the page was in the back/forward cache): events may have been missed, so rooms it holds
   * must be brought up to date on the next `open`.
   */
  | { type: 'resync' }
  | RoomsEvent
  | TypingEvent
  | PresenceEvent
  | ChangesEvent;

/** One handler per host event: a client lists them all, so a new event nobody handles fails to compile. */
export type HostEventHandlers = { [T in HostEvent['type']]: (event: Extract<HostEvent, { type: T }>) => void };

/** The events that bring a client from nothing to `snapshot`: the one way a client catches up with its host. */
export function snapshotEvents(snapshot: HostSnapshot): HostEvent[] {
  const events: HostEvent[] = [
    { type: 'connection', state: snapshot.connection },
    { type: 'session', session: snapshot.session },
  ];
  if (snapshot.rooms) events.push({ type: 'rooms', rooms: snapshot.rooms });
  for (const message of snapshot.outbox) events.push({ type: 'outbox', message });
  for (const change of snapshot.changes ?? []) events.push({ type: 'change', change });
  for (const typing of snapshot.typing ?? []) events.push({ type: 'typing', ...typing });
  return events;
}

/** A client's view of its host, whatever carries it. */
export interface HostLink {
  call<C extends HostCommand>(command: C): Promise<CommandResult<C>>;
  subscribe(listener: (event: HostEvent) => void): () => void;
  /** Detaches; an in-process host also closes (the promise settles once its storage is closed). */
  close(): void | Promise<void>;
}
