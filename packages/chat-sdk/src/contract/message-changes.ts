import { type ChatErrorData, type Message, toChatError } from '../protocol/index.js';
import type { ChangeOp, ChangeRow } from '../storage/types.js';

/**
 * Message changes' contract (protocol 10.5): edits, deletes and reactions go through the
 * outbox like messages (`ChangeRow`, FIFO with them per room), so a change waits behind the
 * message it changes. The host part (features/message-changes/host.ts) keeps each room's
 * change counter and passes changed messages on (`messageUpdates`); the client part
 * (features/message-changes/client.ts) shows pending changes over the server's message.
 */

export type { ChangeOp };

/** A change not yet acknowledged, as a client shows it: pending, or failed (retry or discard it). */
export interface ChatChange {
  readonly clientChangeId: string;
  readonly roomId: string;
  /** The message changed: its server id when known, and its (senderId, clientId). */
  readonly messageId: string | null;
  readonly clientId: string;
  readonly senderId: string;
  readonly op: ChangeOp;
  readonly status: 'pending' | 'failed';
  readonly error?: Readonly<ChatErrorData>;
  /** Client clock when made. */
  readonly createdAt: number;
  /** The outbox's FIFO key (shared with messages). */
  readonly order: number;
}

export type ChangesCommand =
  /** Stores a change in the outbox (before anything goes on the wire), then sends it in turn. */
  { type: 'change'; row: ChangeRow };

export interface ChangesResults {
  change: void;
}

export type ChangesEvent =
  /** A change was queued or changed state (failed, or pending again after a retry). */
  | { type: 'change'; change: ChatChange }
  /**
   * A change left the outbox: the server applied it (`message`: the message as it is now, so a
   * client swaps the pending change for it in one step), or it was discarded.
   */
  | { type: 'changeRemoved'; roomId: string; clientChangeId: string; message?: Message }
  /** Messages changed on the server (live, an acknowledgement, or caught up by `get_changes`). */
  | { type: 'messageUpdates'; roomId: string; messages: Message[] };

export function toChatChange(row: ChangeRow): ChatChange {
  const { userId: _user, attempts: _attempts, lastError, blockedBy: _blocked, ...rest } = row;
  return row.status === 'failed' && lastError ? { ...rest, error: toChatError(lastError).toJSON() } : rest;
}
