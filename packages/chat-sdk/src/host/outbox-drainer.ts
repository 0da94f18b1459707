import { ChatError, type Image, type Message, toChatError } from '../protocol/index.js';
import type { ChatMessage } from '../contract/chat-message.js';
import { toChatMessage } from '../contract/chat-message.js';
import type { OutboxRow } from '../storage/types.js';
import type { Backoff } from './backoff.js';

export interface OutboxDrainerOptions {
  userId: string;
  outbox: {
    put(row: OutboxRow): Promise<void>;
    delete(clientId: string): Promise<void>;
    listByUser(userId: string): Promise<OutboxRow[]>;
  };
  isOpen(): boolean;
  createMessage(data: { roomId: string; clientId: string; text: string; image?: { url: string } }): Promise<{ message: Message }>;
  upload(image: Blob): Promise<Image>;
  backoff: Backoff;
  /** A local message was queued or changed state. */
  onChange(message: ChatMessage): void;
  onRemoved(roomId: string, clientId: string): void;
  /** The server stored the message (a first store or a duplicate of an earlier one). */
  onSent(message: Message): void;
  /** Storage failed while recording an attempt; the row stays queued. */
  onError(error: unknown): void;
}

/**
 * Sends the outbox of one user: first in, first out per room, one `create_message` in
 * flight per room (so a failed or rate-limited head is never overtaken), rooms
 * independent. Retryable failures wait with backoff; permanent ones mark the message
 * failed and let the room move on. Rows are deleted only once the server has the message.
 */
export class OutboxDrainer {
  private readonly rows = new Map<string, OutboxRow>();
  private readonly draining = new Set<string>();
  private readonly attempts = new Map<string, number>();
  private readonly waits = new Map<string, { timer: ReturnType<typeof setTimeout>; wake(): void }>();
  private stopped = false;

  constructor(private readonly options: OutboxDrainerOptions) {}

  /** Reads the stored outbox (after a reload or crash) and announces every row. */
  async load(): Promise<void> {
    const rows = await this.options.outbox.listByUser(this.options.userId);
    for (const row of rows) {
      if (this.rows.has(row.clientId)) continue;
      this.rows.set(row.clientId, row);
      this.options.onChange(toChatMessage(row));
    }
  }

  /** Unsent messages as the UI shows them, oldest first. */
  messages(): ChatMessage[] {
    return this.sorted([...this.rows.values()]).map(toChatMessage);
  }

  /** Stores a new message, then queues it: the row is on disk before any frame leaves. */
  async add(row: OutboxRow): Promise<void> {
    if (this.rows.has(row.clientId)) return;
    await this.options.outbox.put(row);
    this.rows.set(row.clientId, row);
    this.options.onChange(toChatMessage(row));
    this.drainAll();
  }

  async retry(clientId: string): Promise<void> {
    const row = this.rows.get(clientId);
    if (!row) throw new ChatError('NOT_FOUND', `no unsent message ${clientId}`);
    if (row.status !== 'failed') return;
    const next: OutboxRow = { ...row, status: 'pending', attempts: 0, lastError: null };
    await this.options.outbox.put(next);
    this.rows.set(clientId, next);
    this.options.onChange(toChatMessage(next));
    this.drainAll();
  }

  async discard(clientId: string): Promise<void> {
    const row = this.rows.get(clientId);
    if (!row) return;
    if (row.status === 'pending' && this.draining.has(row.roomId) && this.head(row.roomId)?.clientId === clientId) {
      throw new ChatError('BAD_REQUEST', 'this message is being sent; only failed messages can be discarded');
    }
    this.rows.delete(clientId);
    await this.options.outbox.delete(clientId);
    this.options.onRemoved(row.roomId, clientId);
  }

  /** Starts draining every room that has pending rows (after connecting, or after a new row). */
  drainAll(): void {
    if (this.stopped || !this.options.isOpen()) return;
    const rooms = new Set<string>();
    for (const row of this.rows.values()) if (row.status === 'pending') rooms.add(row.roomId);
    for (const roomId of rooms) void this.drain(roomId);
  }

  /** Cuts every backoff short (reconnected, or the browser came back online). */
  resetBackoff(): void {
    this.attempts.clear();
    for (const wait of this.waits.values()) wait.wake();
  }

  stop(): void {
    this.stopped = true;
    for (const wait of this.waits.values()) wait.wake();
  }

  private head(roomId: string): OutboxRow | undefined {
    let head: OutboxRow | undefined;
    for (const row of this.rows.values()) {
      if (row.roomId !== roomId || row.status !== 'pending') continue;
      if (!head || row.order < head.order) head = row;
    }
    return head;
  }

  private sorted(rows: OutboxRow[]): OutboxRow[] {
    return rows.sort((a, b) => a.order - b.order);
  }

  private async drain(roomId: string): Promise<void> {
    if (this.draining.has(roomId)) return;
    this.draining.add(roomId);
    try {
      for (let row = this.head(roomId); row && !this.stopped && this.options.isOpen(); row = this.head(roomId)) {
        try {
          await this.sendOne(row);
        } catch (error) {
          // Storage failed while recording the attempt (or closed under us): stop this
          // room; the row is still queued and the next drainAll tries again.
          if (!this.stopped) this.options.onError(error);
          return;
        }
      }
    } finally {
      this.draining.delete(roomId);
    }
  }

  private async sendOne(row: OutboxRow): Promise<void> {
    try {
      let current = row;
      if (current.image && !current.uploadedImage) {
        const uploadedImage = await this.options.upload(current.image);
        current = { ...current, uploadedImage };
        await this.save(current);
      }
      const data: { roomId: string; clientId: string; text: string; image?: { url: string } } = {
        roomId: current.roomId,
        clientId: current.clientId,
        text: current.text,
      };
      if (current.uploadedImage) data.image = { url: current.uploadedImage.url };
      const { message } = await this.options.createMessage(data);
      this.rows.delete(current.clientId);
      this.attempts.delete(current.roomId);
      await this.options.outbox.delete(current.clientId);
      this.options.onSent(message);
    } catch (cause) {
      await this.handleFailure(row.clientId, toChatError(cause));
    }
  }

  private async handleFailure(clientId: string, error: ChatError): Promise<void> {
    const row = this.rows.get(clientId);
    if (!row) return; // discarded meanwhile
    const lastError = error.toJSON();
    if (!error.retryable) {
      const failed: OutboxRow = { ...row, status: 'failed', attempts: row.attempts + 1, lastError };
      await this.save(failed);
      this.options.onChange(toChatMessage(failed));
      return;
    }
    await this.save({ ...row, attempts: row.attempts + 1, lastError });
    // Lost connection: the room resumes when the host reconnects and drains again.
    if (!this.options.isOpen()) return;
    const attempt = (this.attempts.get(row.roomId) ?? 0) + 1;
    this.attempts.set(row.roomId, attempt);
    await this.wait(row.roomId, Math.max(this.options.backoff(attempt), error.retryAfterMs ?? 0));
  }

  private async save(row: OutboxRow): Promise<void> {
    if (!this.rows.has(row.clientId)) return;
    this.rows.set(row.clientId, row);
    await this.options.outbox.put(row);
  }

  private wait(roomId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waits.delete(roomId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waits.set(roomId, { timer, wake });
    });
  }
}
