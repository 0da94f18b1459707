import type { ActionName, ReplyData } from '../protocol/index.js';
import type { ChatStorage } from '../storage/types.js';
import type { HostEvent, Session } from './host-api.js';

/**
 * What the parts of a connection host (a feature's host part, delivery, the outbox) may use
 * of it: the session, one request on the socket, telling every client, and storage writes
 * that `close` waits for. They never reach the socket or each other's state directly.
 */
export interface HostContext {
  readonly storage: ChatStorage;
  /** The signed-in user's session, or null. */
  session(): Session | null;
  /** One request on the socket (it waits for the socket to open). */
  request<A extends ActionName>(action: A, data: Record<string, unknown>): Promise<ReplyData<A>>;
  /** Tells every attached client. */
  emit(event: HostEvent): void;
  /** A storage write in flight: a failure is reported, and `close` waits for it. */
  track(write: Promise<void>): void;
  /** A fault that failed no command, for the clients' `error` event. */
  report(error: unknown): void;
}
