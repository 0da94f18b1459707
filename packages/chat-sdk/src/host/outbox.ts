import { ChatError, type Message } from '../protocol/index.js';
import type { ChatMessage } from '../contract/chat-message.js';
import type { ChatChange } from '../contract/message-changes.js';
import type { ChangeRow } from '../storage/types.js';
import type { HostContext } from '../contract/host-context.js';
import type { FetchLike } from '../contract/platform.js';
import type { Backoff } from './backoff.js';
import { OutboxDrainer } from './outbox-drainer.js';
import { uploadImage } from './uploads.js';
import { holdWebLock } from './web-lock.js';

export interface HostOutboxOptions {
  fetch: FetchLike;
  uploadUrl: string;
  backoff: Backoff;
  isOpen(): boolean;
  /** The server stored a message: it is delivered like any live message. */
  onSent(message: Message): void;
  /** The server applied a change: the message as it is now. */
  onChanged(message: Message): void;
  /** A change to this message goes on the wire / its request failed. */
  hold(senderId: string, clientId: string): void;
  release(senderId: string, clientId: string): void;
  /** The server refused a change for good: the room's changes are asked for again. */
  onRefused(roomId: string): void;
}

/** The wire form of a change row (protocol 10.5). */
function changeRequest(row: ChangeRow): { action: 'edit_message' | 'delete_message' | 'react'; data: Record<string, unknown> } {
  const data: Record<string, unknown> = { roomId: row.roomId, clientChangeId: row.clientChangeId };
  if (row.messageId !== null) data.messageId = row.messageId;
  else Object.assign(data, { clientId: row.clientId, senderId: row.senderId });
  const { op } = row;
  if (op.kind === 'edit') return { action: 'edit_message', data: { ...data, text: op.text } };
  if (op.kind === 'delete') return { action: 'delete_message', data };
  return { action: 'react', data: { ...data, emoji: op.emoji, on: op.on } };
}

/**
 * The signed-in user's outbox in this host: loaded when a session starts, drained only while
 * this host holds the Web Lock `chat:outbox:<userId>`, so one host per user and origin sends.
 */
export class HostOutbox {
  private drainer: OutboxDrainer | null = null;
  private releaseLock: (() => void) | null = null;

  constructor(
    private readonly host: HostContext,
    private readonly options: HostOutboxOptions,
  ) {}

  async start(userId: string): Promise<void> {
    this.stop();
    let lockHeld = false;
    const drainer = new OutboxDrainer({
      userId,
      outbox: this.host.storage.outbox,
      changes: this.host.storage.changes,
      isOpen: () => lockHeld && this.options.isOpen(),
      createMessage: (data) => this.host.request('create_message', data),
      sendChange: (row) => {
        const { action, data } = changeRequest(row);
        this.options.hold(row.senderId, row.clientId);
        return this.host.request(action, data);
      },
      onChangeEnded: (row) => this.options.release(row.senderId, row.clientId),
      onChangeQueued: (change) => this.host.emit({ type: 'change', change }),
      onChangeRemoved: (roomId, clientChangeId, message) =>
        this.host.emit({ type: 'changeRemoved', roomId, clientChangeId, ...(message ? { message } : {}) }),
      onChanged: (message) => this.options.onChanged(message),
      onRefused: (roomId) => this.options.onRefused(roomId),
      upload: (image) => {
        const token = this.host.session()?.token;
        if (!token) return Promise.reject(new ChatError('UNAUTHENTICATED', 'not signed in'));
        return uploadImage(this.options.fetch, this.options.uploadUrl, token, image);
      },
      backoff: this.options.backoff,
      onChange: (message) => this.host.emit({ type: 'outbox', message }),
      onRemoved: (roomId, clientId) => this.host.emit({ type: 'outboxRemoved', roomId, clientId }),
      onSent: (message) => this.options.onSent(message),
      onError: (error) => this.host.report(error),
    });
    this.drainer = drainer;
    await drainer.load();
    const lock = holdWebLock(`chat:outbox:${userId}`);
    this.releaseLock = lock.release;
    void lock.acquired.then(() => {
      lockHeld = true;
      if (this.drainer === drainer) drainer.drainAll();
    });
  }

  stop(): void {
    this.drainer?.stop();
    this.drainer = null;
    this.releaseLock?.();
    this.releaseLock = null;
  }

  /** Unsent messages of the session's user, for a snapshot. */
  messages(): ChatMessage[] {
    return this.drainer?.messages() ?? [];
  }

  /** Unacknowledged changes of the session's user, for a snapshot. */
  changes(): ChatChange[] {
    return this.drainer?.pendingChanges() ?? [];
  }

  /** Sends now what waits, with a fresh backoff (a connect, the browser back online, `reconnect()`). */
  sendNow(): void {
    this.drainer?.resetBackoff();
    this.drainer?.drainAll();
  }

  /** The drainer of the session, for the commands that need one. */
  require(): OutboxDrainer {
    if (!this.drainer) throw new ChatError('UNAUTHENTICATED', 'not signed in');
    return this.drainer;
  }
}
