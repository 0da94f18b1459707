import { nanoid } from 'nanoid';
import { ChatError, type Message, toChatError } from '../protocol/index.js';
import { type ChatMessage, toChatMessage } from '../contract/chat-message.js';
import type { HostLink, Session } from '../contract/host-api.js';
import type { OutboxRow, ReplyRef } from '../storage/types.js';

export interface OutgoingOptions {
  call: HostLink['call'];
  /** Put a message on screen, or change it there (its room's store, if open). */
  show(message: ChatMessage): void;
  /** Take a message off screen. */
  hide(roomId: string, clientId: string, senderId: string): void;
  /** A message needs the user (the client's `failed` event). */
  failed(message: ChatMessage): void;
  report(error: ChatError): void;
  /** A message of the room's draft went out: the draft is done. */
  draftSent(roomId: string): void;
}

/** Why a message is still in the tab and not in the host's outbox. */
type Held = 'resume' | 'retry';

/**
 * This tab's unsent messages, in one place: what the host's outbox reported (pending or
 * failed) and what never reached it (sent while resuming, or refused by storage), until
 * the server has them. The outbox in storage is the truth; the host's drainer works from
 * it; this is the tab's view, which room stores read when they open.
 */
export class Outgoing {
  private readonly unsent = new Map<string, ChatMessage>();
  /** Rows kept here because the host does not have them (yet). */
  private readonly held = new Map<string, { row: OutboxRow; until: Held }>();
  /** Sends on their way to the outbox; `settled` waits for them. */
  private readonly saving = new Set<Promise<void>>();
  private lastOrder = 0;

  constructor(private readonly options: OutgoingOptions) {}

  /** A new message, on screen at once. `userId` is null while a stored session resumes: it waits for it. */
  add(roomId: string, text: string, image: Blob | null, userId: string | null, replyTo?: ReplyRef): ChatMessage {
    const now = Date.now();
    const row: OutboxRow = {
      clientId: nanoid(),
      userId: userId ?? '',
      roomId,
      text,
      image,
      uploadedImage: null,
      createdAt: now,
      order: this.nextOrder(now),
      attempts: 0,
      lastError: null,
      status: 'pending',
      ...(replyTo ? { replyTo } : {}),
    };
    const message = toChatMessage(row);
    this.track(message);
    if (userId === null) {
      this.held.set(row.clientId, { row, until: 'resume' });
    } else {
      void this.store(row);
      this.options.draftSent(roomId);
    }
    return message;
  }

  /** The outbox's FIFO key for something made now (a message, or a change that must follow them). */
  nextOrder(now = Date.now()): number {
    return (this.lastOrder = Math.max(now * 1000, this.lastOrder + 1));
  }

  /** An unsent message of this tab by clientId. */
  get(clientId: string): ChatMessage | undefined {
    return this.unsent.get(clientId);
  }

  /** The stored session is back (its messages go out as that user), or none was (they fail, kept for `retry`). */
  resumed(session: Session | null): void {
    for (const [clientId, { row, until }] of this.held) {
      if (until !== 'resume') continue;
      this.held.delete(clientId);
      this.untrack(row);
      if (!session) {
        const error = new ChatError('UNAUTHENTICATED', 'not signed in: there was no session to resume').toJSON();
        const failed: ChatMessage = { ...toChatMessage(row), status: 'failed', error };
        this.held.set(clientId, { row, until: 'retry' });
        this.track(failed);
        this.options.failed(failed);
        continue;
      }
      const owned = { ...row, userId: session.user.id };
      this.track(toChatMessage(owned));
      void this.store(owned);
      this.options.draftSent(owned.roomId);
    }
  }

  /** Retries a message the host never got; false when the host has it (the host retries those). */
  retryHeld(clientId: string, userId: string): Promise<void> | false {
    const held = this.held.get(clientId);
    if (!held || held.until !== 'retry') return false;
    // Sent while resuming with no session to resume: it belongs to whoever is signed in now.
    const row = held.row.userId ? held.row : { ...held.row, userId };
    if (row !== held.row) this.untrack(held.row);
    this.track(toChatMessage(row));
    return this.store(row);
  }

  /** Forgets a message the host never got; false when the host has it. */
  discardHeld(clientId: string): boolean {
    const held = this.held.get(clientId);
    if (!held || held.until !== 'retry') return false;
    this.held.delete(clientId);
    this.untrack(held.row);
    return true;
  }

  /** The host's outbox reported a message (queued, failed, pending again). */
  track(message: ChatMessage): void {
    this.unsent.set(message.clientId, message);
    this.options.show(message);
  }

  /** The host told how far a message's image upload got. */
  progress({ clientId, loaded, total }: { clientId: string; loaded: number; total: number }): void {
    const message = this.unsent.get(clientId);
    if (message) this.track({ ...message, upload: { loaded, total } });
  }

  /** The host's outbox dropped a message (discarded there). */
  removed(roomId: string, clientId: string): void {
    const message = this.unsent.get(clientId);
    this.unsent.delete(clientId);
    if (message) this.options.hide(roomId, clientId, message.senderId);
  }

  /** Server messages arrived: those that were ours are no longer unsent. */
  delivered(messages: readonly Message[]): void {
    for (const message of messages) {
      const unsent = this.unsent.get(message.clientId);
      if (unsent && unsent.senderId === message.senderId) this.unsent.delete(message.clientId);
    }
  }

  /** A room store opening: the unsent messages of `senderId` ('' while resuming) in that room. */
  inRoom(roomId: string, senderId: string): ChatMessage[] {
    return [...this.unsent.values()].filter((message) => message.roomId === roomId && message.senderId === senderId);
  }

  /** Another user signed in here: the last one's unsent messages must not show (they stay in their outbox). */
  clear(): void {
    this.unsent.clear();
  }

  /** Resolves once every message handed to the host is in its outbox (or failed to be). */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.saving]);
  }

  /** Hands a message to the host, which writes it to the outbox before sending. */
  private store(row: OutboxRow): Promise<void> {
    this.held.delete(row.clientId);
    const saving = this.options.call({ type: 'send', row }).catch((error: unknown) => {
      // Not even stored: kept on screen as failed, and the row kept so `retry` can store it again.
      const failure = toChatError(error);
      this.held.set(row.clientId, { row, until: 'retry' });
      this.track({ ...toChatMessage(row), status: 'failed', error: failure.toJSON() });
      this.options.report(failure);
    });
    this.saving.add(saving);
    void saving.finally(() => this.saving.delete(saving));
    return saving;
  }

  private untrack(row: OutboxRow): void {
    this.unsent.delete(row.clientId);
    this.options.hide(row.roomId, row.clientId, row.userId);
  }
}
