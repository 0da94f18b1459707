import type { ActionName, ChatErrorData, Message, Room, User } from '../protocol/index.js';
import type { ChatMessage } from './chat-message.js';
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

/** Requests a client makes of its host; each gets exactly one result. */
export type HostCommand =
  | { type: 'signUp'; email: string; name?: string }
  | { type: 'login'; credentials: LoginCredentials }
  /** Picks up the stored session; a shared host passes the session a tab shows instead. */
  | { type: 'resume'; session?: Session }
  | { type: 'logout' }
  /** Connect now with a fresh backoff (and resend the outbox now). */
  | { type: 'reconnect' }
  | { type: 'request'; action: ActionName; data: Record<string, unknown> }
  | { type: 'send'; row: OutboxRow }
  | { type: 'retry'; clientId: string }
  | { type: 'discard'; clientId: string }
  | { type: 'snapshot' }
  /** The messages of a room kept in storage, for a page reloaded offline. */
  | { type: 'cachedMessages'; roomId: string };

/** The host's shared state, sent whole to a client that (re)attaches. */
export interface HostSnapshot {
  connection: ConnectionState;
  session: Session | null;
  rooms: Room[];
  /** Every unsent message of the session's user: pending or failed. */
  outbox: ChatMessage[];
}

/** What the host tells every attached client. */
export type HostEvent =
  | { type: 'connection'; state: ConnectionState }
  | { type: 'session'; session: Session | null; reason?: 'revoked' | 'rejected' | 'logout' }
  | { type: 'rooms'; rooms: Room[] }
  | { type: 'room'; room: Room }
  /** Server messages to merge: live events, send acknowledgements, catch-up and gap fills. */
  | { type: 'messages'; roomId: string; messages: Message[] }
  /** A local message was queued or changed state (pending again after retry, or failed). */
  | { type: 'outbox'; message: ChatMessage }
  | { type: 'outbox-removed'; roomId: string; clientId: string }
  /** A fault worth reporting that failed no request: a malformed frame, a 1008/1009 close. */
  | { type: 'error'; error: ChatErrorData }
  /**
   * This client was away from its host (the host restarted, dropped it for missed pings, or
   * the page was in the back/forward cache): events may have been missed, so rooms it holds
   * must be brought up to date on the next `open`.
   */
  | { type: 'resync' };

export type CommandResult<C extends HostCommand> = C extends { type: 'signUp' | 'login' }
  ? User
  : C extends { type: 'resume' }
    ? Session | null
    : C extends { type: 'snapshot' }
      ? HostSnapshot
      : C extends { type: 'cachedMessages' }
        ? Message[]
      : C extends { type: 'request' }
        ? unknown
        : void;

/** A client's view of its host, whatever carries it. */
export interface HostLink {
  call<C extends HostCommand>(command: C): Promise<CommandResult<C>>;
  subscribe(listener: (event: HostEvent) => void): () => void;
  /** Detaches; an in-process host also closes (the promise settles once its storage is closed). */
  close(): void | Promise<void>;
}
