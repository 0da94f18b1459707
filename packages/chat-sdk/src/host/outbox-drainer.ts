import { ChatError, type Image, type Message, toChatError } from '../protocol/index.js';
import type { ChatMessage } from '../contract/chat-message.js';
import { toChatMessage } from '../contract/chat-message.js';
import type { OutboxRow } from '../storage/types.js';
import type { Backoff } from './backoff.js';
import { type UploadControl, throttledProgress } from './uploads.js';

export interface OutboxDrainerOptions {
  userId: string;
  outbox: {
    put(row: OutboxRow): Promise<void>;
    delete(clientId: string): Promise<void>;
    listByUser(userId: string): Promise<OutboxRow[]>;
  };
  isOpen(): boolean;
  createMessage(data: { roomId: string; clientId: string; text: string; image?: { url: string } }): Promise<{ message: Message }>;
  upload(image: Blob, control: UploadControl): Promise<Image>;
  /** An image upload moved on (throttled: each tenth, or every 250 ms, and the end). */
  onUploadProgress(roomId: string, clientId: string, loaded: number, total: number): void;
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
  /** Rows being written by `add`, not queued yet. */
  private readonly adding = new Map<string, Promise<void>>();
  /** The last messages sent, so a discard that came too late says so rather than seem to work. */
  private readonly sent = new Set<string>();
  /** Uploads in progress by clientId: a discard aborts them; a snapshot shows their progress. */
  private readonly uploads = new Map<string, { control: AbortController; progress?: { loaded: number; total: number } }>();
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
    return this.sorted([...this.rows.values()]).map((row) => {
      const progress = this.uploads.get(row.clientId)?.progress;
      return progress ? { ...toChatMessage(row), upload: progress } : toChatMessage(row);
    });
  }

  /** Stores a new message, then queues it: the row is on disk before any frame leaves. */
  async add(row: OutboxRow): Promise<void> {
    if (this.rows.has(row.clientId)) return;
    const stored = this.options.outbox.put(row);
    this.adding.set(row.clientId, stored);
    try {
      await stored;
    } finally {
      this.adding.delete(row.clientId);
    }
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

  /**
   * Forgets an unsent message. The head of a room being sent is refused (CONFLICT) once its
   * `create_message` may have left, so a message the server has is never hidden from the
   * user who discarded it. Until then (its image still uploading, or waiting to upload
   * again) the upload is aborted: `create_message` goes only after `uploadedImage` is
   * stored, and that is set in the same turn that checks the row is still here.
   */
  async discard(clientId: string): Promise<void> {
    // Sent a moment ago and still being stored: decided once it is queued, never missed.
    await this.adding.get(clientId)?.catch(() => undefined);
    const row = this.rows.get(clientId);
    if (!row) {
      if (this.sent.has(clientId)) throw new ChatError('CONFLICT', 'this message was sent already and can no longer be discarded');
      return;
    }
    const sending = row.status === 'pending' && this.draining.has(row.roomId) && this.head(row.roomId)?.clientId === clientId;
    if (sending && !(row.image && !row.uploadedImage)) {
      throw new ChatError('CONFLICT', 'this message is on its way to the server and can no longer be discarded');
    }
    this.rows.delete(clientId);
    this.uploads.get(clientId)?.control.abort();
    if (sending) this.waits.get(row.roomId)?.wake();
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
    for (const upload of this.uploads.values()) upload.control.abort();
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
        const uploadedImage = await this.uploadOf(current, current.image);
        // Discarded (or stopped) while it uploaded: no create_message, the image stays an orphan.
        if (!uploadedImage || !this.rows.has(current.clientId)) return;
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
      this.sent.add(current.clientId);
      if (this.sent.size > 256) this.sent.delete(this.sent.values().next().value!);
      this.attempts.delete(current.roomId);
      await this.options.outbox.delete(current.clientId);
      this.options.onSent(message);
    } catch (cause) {
      await this.handleFailure(row.clientId, toChatError(cause));
    }
  }

  /** Uploads a row's image, telling its progress; undefined when aborted by a discard or `stop`. */
  private async uploadOf(row: OutboxRow, image: Blob): Promise<Image | undefined> {
    const { roomId, clientId } = row;
    const control = new AbortController();
    const upload: { control: AbortController; progress?: { loaded: number; total: number } } = { control };
    this.uploads.set(clientId, upload);
    const report = throttledProgress((loaded, total) => {
      upload.progress = { loaded, total };
      this.options.onUploadProgress(roomId, clientId, loaded, total);
    });
    try {
      return await this.options.upload(image, { signal: control.signal, onProgress: (loaded, total) => control.signal.aborted || report(loaded, total) });
    } catch (error) {
      if (control.signal.aborted) return undefined;
      // Waiting to try again: the tabs stop showing a bar that will not move meanwhile.
      const held = this.rows.get(clientId);
      if (held && toChatError(error).retryable) this.options.onChange(toChatMessage(held));
      throw error;
    } finally {
      this.uploads.delete(clientId);
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
