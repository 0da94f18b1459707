import { ChatError, type Image, type Message, toChatError } from '../protocol/index.js';
import type { ChatMessage } from '../contract/chat-message.js';
import { toChatMessage } from '../contract/chat-message.js';
import { type ChatChange, toChatChange } from '../contract/message-changes.js';
import type { ChangeRow, ChangeTable, OutboxRow } from '../storage/types.js';
import type { Backoff } from './backoff.js';
import { type UploadControl, throttledProgress } from './uploads.js';

export interface OutboxDrainerOptions {
  userId: string;
  outbox: {
    put(row: OutboxRow): Promise<void>;
    delete(clientId: string): Promise<void>;
    listByUser(userId: string): Promise<OutboxRow[]>;
  };
  /** The change rows (protocol 10.5), drained first in, first out with the messages by `order`. */
  changes: ChangeTable;
  isOpen(): boolean;
  createMessage(data: { roomId: string; clientId: string; text: string; image?: { url: string }; replyTo?: string }): Promise<{ message: Message }>;
  /** Sends one change (`edit_message`, `delete_message` or `react`); resolves with the message as it is after it. */
  sendChange(row: ChangeRow): Promise<{ message: Message }>;
  /** A change was queued or changed state. */
  onChangeQueued(change: ChatChange): void;
  onChangeRemoved(roomId: string, clientChangeId: string, message?: Message): void;
  /** A change's attempt ended without reaching `onChanged` (refused, lost, or storage failed). */
  onChangeEnded?(row: ChangeRow): void;
  /** The server applied a change (or had it already): the message as it is now. */
  onChanged(message: Message): void;
  /** The server refused a change for good: what the room holds may be behind it. */
  onRefused(roomId: string): void;
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
type Queued = OutboxRow | ChangeRow;
const isChange = (row: Queued): row is ChangeRow => 'clientChangeId' in row;
const keyOf = (row: Queued): string => (isChange(row) ? row.clientChangeId : row.clientId);

export class OutboxDrainer {
  private readonly rows = new Map<string, OutboxRow>();
  private readonly changes = new Map<string, ChangeRow>();
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
    for (const row of await this.options.changes.listByUser(this.options.userId)) {
      if (this.changes.has(row.clientChangeId)) continue;
      this.changes.set(row.clientChangeId, row);
      this.options.onChangeQueued(toChatChange(row));
    }
  }

  /** Unacknowledged changes, oldest first. */
  pendingChanges(): ChatChange[] {
    return [...this.changes.values()].sort((a, b) => a.order - b.order).map(toChatChange);
  }

  /** Stores a new change, then queues it behind what the room holds already. */
  async addChange(row: ChangeRow): Promise<void> {
    if (this.changes.has(row.clientChangeId)) return;
    await this.options.changes.put(row);
    this.changes.set(row.clientChangeId, row);
    this.options.onChangeQueued(toChatChange(row));
    this.drainAll();
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

  /** A failed message or change goes out again; a message takes the changes and replies that failed with it along. */
  async retry(clientId: string): Promise<void> {
    const row = this.rows.get(clientId) ?? this.changes.get(clientId);
    if (!row) throw new ChatError('NOT_FOUND', `no unsent message or change ${clientId}`);
    if (row.status !== 'failed') return;
    for (const queued of [row, ...this.all().filter((r) => r.blockedBy === clientId && r.status === 'failed')]) {
      const { blockedBy: _blocked, ...rest } = queued;
      await this.save({ ...rest, status: 'pending', attempts: 0, lastError: null } as Queued);
    }
    this.drainAll();
  }

  /**
   * Forgets an unsent message (with the changes waiting on it) or a change. The head of a
   * room being sent is refused (CONFLICT) once its frame may have left, so something the
   * server has is never hidden from the user who discarded it. Until then (a message whose
   * image is still uploading, or waiting to upload again) the upload is aborted:
   * `create_message` goes only after `uploadedImage` is stored, and that is set in the same
   * turn that checks the row is still here.
   */
  async discard(clientId: string): Promise<void> {
    // Sent a moment ago and still being stored: decided once it is queued, never missed.
    await this.adding.get(clientId)?.catch(() => undefined);
    const row = this.rows.get(clientId) ?? this.changes.get(clientId);
    if (!row) {
      if (this.sent.has(clientId)) throw new ChatError('CONFLICT', 'this message was sent already and can no longer be discarded');
      return;
    }
    const sending = row.status === 'pending' && this.draining.has(row.roomId) && this.head(row.roomId) === row;
    const uploading = !isChange(row) && row.image !== null && row.image !== undefined && !row.uploadedImage;
    if (sending && !uploading) throw new ChatError('CONFLICT', 'this is on its way to the server and can no longer be discarded');
    if (!isChange(row)) this.uploads.get(clientId)?.control.abort();
    const removing = this.remove(row); // out of the queue at once (before its first await)
    if (sending) this.waits.get(row.roomId)?.wake();
    await removing;
    if (!isChange(row)) {
      for (const change of [...this.changes.values()]) {
        if (change.messageId === null && change.clientId === clientId && change.senderId === row.userId) await this.remove(change);
      }
    }
  }

  private async remove(row: Queued): Promise<void> {
    if (isChange(row)) {
      this.changes.delete(row.clientChangeId);
      await this.options.changes.delete(row.clientChangeId);
      this.options.onChangeRemoved(row.roomId, row.clientChangeId);
    } else {
      this.rows.delete(row.clientId);
      await this.options.outbox.delete(row.clientId);
      this.options.onRemoved(row.roomId, row.clientId);
    }
  }

  private all(): Queued[] {
    return [...this.rows.values(), ...this.changes.values()];
  }

  /** Starts draining every room that has pending rows (after connecting, or after a new row). */
  drainAll(): void {
    if (this.stopped || !this.options.isOpen()) return;
    const rooms = new Set<string>();
    for (const row of this.all()) if (row.status === 'pending') rooms.add(row.roomId);
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

  private head(roomId: string): Queued | undefined {
    let head: Queued | undefined;
    for (const row of this.all()) {
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

  private async sendOne(queued: Queued): Promise<void> {
    if (isChange(queued)) return this.sendChange(queued);
    const row = queued;
    try {
      let current = row;
      if (current.image && !current.uploadedImage) {
        const uploadedImage = await this.uploadOf(current, current.image);
        // Discarded (or stopped) while it uploaded: no create_message, the image stays an orphan.
        if (!uploadedImage || !this.rows.has(current.clientId)) return;
        current = { ...current, uploadedImage };
        await this.save(current, false);
      }
      const data: { roomId: string; clientId: string; text: string; image?: { url: string }; replyTo?: string } = {
        roomId: current.roomId,
        clientId: current.clientId,
        text: current.text,
      };
      if (current.uploadedImage) data.image = { url: current.uploadedImage.url };
      if (current.replyTo) {
        // A parent still unsent when the reply was made got its id when it went out (just above in the queue).
        if (current.replyTo.id === null) return await this.blocked(current, current.replyTo.clientId);
        data.replyTo = current.replyTo.id;
      }
      const { message } = await this.options.createMessage(data);
      this.rows.delete(current.clientId);
      this.sent.add(current.clientId);
      if (this.sent.size > 256) this.sent.delete(this.sent.values().next().value!);
      this.attempts.delete(current.roomId);
      await this.options.outbox.delete(current.clientId);
      this.options.onSent(message);
      await this.sentAs(message);
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

  private async sendChange(row: ChangeRow): Promise<void> {
    try {
      // Named by clientId, the message was unsent when the change was made: if it failed, so does this.
      if (row.messageId === null && this.rows.get(row.clientId)?.status === 'failed') return await this.blocked(row, row.clientId);
      const { message } = await this.options.sendChange(row);
      this.changes.delete(row.clientChangeId);
      this.attempts.delete(row.roomId);
      await this.options.changes.delete(row.clientChangeId);
      // The pending change leaves the stores with the message as it is now, in one step: no flicker.
      this.options.onChangeRemoved(row.roomId, row.clientChangeId, message);
      this.options.onChanged(message);
    } catch (cause) {
      this.options.onChangeEnded?.(row);
      await this.handleFailure(row.clientChangeId, toChatError(cause));
    }
  }

  /** A row that cannot go out because the message it depends on failed (or was discarded) fails too. */
  private async blocked(row: Queued, on: string): Promise<void> {
    const parent = this.rows.get(on);
    const error = new ChatError('NOT_FOUND', parent ? `message ${on} failed to send: ${parent.lastError?.message ?? ''}` : `message ${on} was never sent`);
    await this.handleFailure(keyOf(row), error, parent ? on : undefined);
  }

  /** The server has a message: rows naming it by clientId learn its id (a reply needs it). */
  private async sentAs(message: Message): Promise<void> {
    for (const row of this.all()) {
      if (isChange(row)) {
        if (row.messageId === null && row.clientId === message.clientId && row.senderId === message.senderId) await this.save({ ...row, messageId: message.id }, false);
      } else if (row.replyTo && row.replyTo.id === null && row.replyTo.clientId === message.clientId && row.replyTo.senderId === message.senderId) {
        await this.save({ ...row, replyTo: { ...row.replyTo, id: message.id } }, false);
      }
    }
  }

  private async handleFailure(clientId: string, error: ChatError, blockedBy?: string): Promise<void> {
    // Stopped (close or logout): the attempt was cut short by us, not refused by the server
    // (the connection fails it with CLOSED). The row stays as stored for the next start.
    if (this.stopped) return;
    const row = this.rows.get(clientId) ?? this.changes.get(clientId);
    if (!row) return; // discarded meanwhile
    const lastError = error.toJSON();
    if (!error.retryable) {
      const failed = { ...row, status: 'failed', attempts: row.attempts + 1, lastError, ...(blockedBy ? { blockedBy } : {}) } as Queued;
      await this.save(failed);
      if (isChange(row)) {
        this.options.onRefused(row.roomId);
      } else {
        // Its changes and replies waiting behind it can never go out: they fail with it (and are retried with it).
        for (const other of this.all()) {
          const on = isChange(other) ? (other.messageId === null ? other.clientId : null) : (other.replyTo?.id === null ? other.replyTo.clientId : null);
          if (other.status === 'pending' && on === clientId) await this.blocked(other, clientId);
        }
      }
      return;
    }
    await this.save({ ...row, attempts: row.attempts + 1, lastError }, false);
    // Lost connection: the room resumes when the host reconnects and drains again.
    if (!this.options.isOpen()) return;
    const attempt = (this.attempts.get(row.roomId) ?? 0) + 1;
    this.attempts.set(row.roomId, attempt);
    await this.wait(row.roomId, Math.max(this.options.backoff(attempt), error.retryAfterMs ?? 0));
  }

  /** Records a row's new state (unless it left meanwhile) and tells the clients. */
  private async save(row: Queued, tell = true): Promise<void> {
    if (isChange(row)) {
      if (!this.changes.has(row.clientChangeId)) return;
      this.changes.set(row.clientChangeId, row);
      await this.options.changes.put(row);
      if (tell) this.options.onChangeQueued(toChatChange(row));
    } else {
      if (!this.rows.has(row.clientId)) return;
      this.rows.set(row.clientId, row);
      await this.options.outbox.put(row);
      if (tell) this.options.onChange(toChatMessage(row));
    }
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
