import { ChatError } from '../protocol/index.js';
import { draftKey, type ChatStorage } from '../storage/types.js';
import { ValueStore, type Store } from '../contract/store.js';
import type { BroadcastChannelConstructor, BroadcastChannelLike } from '../contract/platform.js';

export interface Draft {
  readonly text: string;
  readonly image: Blob | null;
  readonly updatedAt: number;
}

/** What a composer shows. Until `loaded`, the stored draft is still being read: don't overwrite it. */
export interface DraftState {
  readonly loaded: boolean;
  readonly draft: Draft | null;
}

export interface DraftSyncOptions {
  /** Quiet time before a draft is written; default 300 ms. */
  debounceMs?: number;
  /** Announces changes to other tabs of the origin; default none (no cross-tab sync). */
  BroadcastChannel?: BroadcastChannelConstructor | undefined;
  /** Default 'chat-sdk:drafts'. */
  channelName?: string;
  /** Default Date.now. */
  now?: () => number;
  /** A write or read that failed; default console.error. */
  onError?: (error: unknown) => void;
}

/** The announcement: only the key, since the truth (and the Blob) is in storage. */
interface DraftChange {
  type: 'draft';
  key: string;
  userId: string;
  roomId: string;
}

interface Entry {
  readonly userId: string;
  readonly roomId: string;
  readonly store: ValueStore<DraftState>;
  /** A local edit not written yet: it wins over what storage or other tabs say. */
  timer: ReturnType<typeof setTimeout> | undefined;
  loading: Promise<void> | undefined;
}

const EMPTY: DraftState = { loaded: false, draft: null };

function isDraftChange(data: unknown): data is DraftChange {
  const d = data as Partial<DraftChange> | null;
  return typeof d === 'object' && d !== null && d.type === 'draft' && typeof d.key === 'string' &&
    typeof d.userId === 'string' && typeof d.roomId === 'string';
}

/**
 * Drafts per (user, room): kept in memory for the UI at once, written to storage on a
 * debounce, announced to other tabs after each write. Call `flush()` on close and on
 * `pagehide` so the last keystrokes survive.
 */
export class DraftSync {
  private readonly storage: Promise<ChatStorage>;
  private readonly entries = new Map<string, Entry>();
  private readonly writes = new Set<Promise<void>>();
  private readonly channel: BroadcastChannelLike | undefined;
  private readonly debounceMs: number;
  private readonly now: () => number;
  private readonly onError: (error: unknown) => void;
  private closed = false;

  constructor(storage: ChatStorage | PromiseLike<ChatStorage>, options: DraftSyncOptions = {}) {
    this.storage = Promise.resolve(storage);
    this.debounceMs = options.debounceMs ?? 300;
    this.now = options.now ?? Date.now;
    this.onError = options.onError ?? ((error) => console.error('@chat/sdk: drafts', error));
    if (options.BroadcastChannel) {
      this.channel = new options.BroadcastChannel(options.channelName ?? 'chat-sdk:drafts');
      this.channel.addEventListener('message', (event) => {
        if (isDraftChange(event.data)) this.onRemoteChange(event.data);
      });
    }
  }

  /** The draft, from memory when this instance knows it (latest keystroke included), else from storage. */
  async get(userId: string, roomId: string): Promise<Draft | null> {
    const entry = this.entry(userId, roomId);
    await this.load(entry);
    return entry.store.getSnapshot().draft;
  }

  /** A live view of one room's draft for the UI; reading starts on first call. */
  store(userId: string, roomId: string): Store<DraftState> {
    const entry = this.entry(userId, roomId);
    void this.load(entry);
    return entry.store;
  }

  subscribe(userId: string, roomId: string, listener: () => void): () => void {
    return this.store(userId, roomId).subscribe(listener);
  }

  /** Takes the new draft at once (memory); writes it after `debounceMs` of quiet. Empty means none. */
  set(userId: string, roomId: string, value: { text: string; image?: Blob | null }): void {
    if (this.closed) throw new ChatError('CLOSED', 'drafts are closed');
    const entry = this.entry(userId, roomId);
    const image = value.image ?? null;
    const current = entry.store.getSnapshot();
    if (current.loaded && (current.draft?.text ?? '') === value.text && (current.draft?.image ?? null) === image) return;
    const draft = value.text === '' && image === null ? null : { text: value.text, image, updatedAt: this.now() };
    entry.store.set({ loaded: true, draft });
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = setTimeout(() => this.write(entry), this.debounceMs);
  }

  /** Drops the draft now (the message was sent), here, in storage and in other tabs. */
  async clear(userId: string, roomId: string): Promise<void> {
    if (this.closed) throw new ChatError('CLOSED', 'drafts are closed');
    const entry = this.entry(userId, roomId);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    entry.store.set({ loaded: true, draft: null });
    await this.track(this.persist(entry, null));
  }

  /** Writes every debounced draft now, and waits for all writes in flight. */
  async flush(): Promise<void> {
    for (const entry of this.entries.values()) if (entry.timer !== undefined) this.write(entry);
    while (this.writes.size > 0) await Promise.all(this.writes);
  }

  /** Flushes, then stops listening to other tabs. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    this.channel?.close();
  }

  private entry(userId: string, roomId: string): Entry {
    const key = draftKey(userId, roomId);
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { userId, roomId, store: new ValueStore(EMPTY), timer: undefined, loading: undefined };
      this.entries.set(key, entry);
    }
    return entry;
  }

  private load(entry: Entry): Promise<void> {
    if (entry.store.getSnapshot().loaded) return Promise.resolve();
    entry.loading ??= this.read(entry).finally(() => {
      entry.loading = undefined;
    });
    return entry.loading;
  }

  /** Reads storage into the entry, unless a local edit came first (it is newer). */
  private async read(entry: Entry): Promise<void> {
    try {
      const row = await (await this.storage).drafts.get(entry.userId, entry.roomId);
      if (entry.timer !== undefined) return;
      const current = entry.store.getSnapshot();
      const draft = row ? { text: row.text, image: row.image, updatedAt: row.updatedAt } : null;
      if (current.loaded && current.draft?.updatedAt === draft?.updatedAt) return;
      entry.store.set({ loaded: true, draft });
    } catch (error) {
      this.onError(error);
      // Show the composer anyway: an empty draft beats a spinner that never ends.
      if (!entry.store.getSnapshot().loaded) entry.store.set({ loaded: true, draft: null });
    }
  }

  private write(entry: Entry): void {
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    entry.timer = undefined;
    void this.track(this.persist(entry, entry.store.getSnapshot().draft));
  }

  private async persist(entry: Entry, draft: Draft | null): Promise<void> {
    const { userId, roomId } = entry;
    const storage = await this.storage;
    if (draft === null) await storage.drafts.delete(userId, roomId);
    else await storage.drafts.put({ key: draftKey(userId, roomId), userId, roomId, text: draft.text, image: draft.image, updatedAt: draft.updatedAt });
    // Announced after the write, so the other tabs read what was written.
    const change: DraftChange = { type: 'draft', key: draftKey(userId, roomId), userId, roomId };
    if (!this.closed) this.channel?.postMessage(change);
  }

  private track(write: Promise<void>): Promise<void> {
    const tracked = write.catch((error: unknown) => this.onError(error));
    this.writes.add(tracked);
    void tracked.finally(() => this.writes.delete(tracked));
    return tracked;
  }

  /** Another tab wrote a draft: re-read it, if anyone here shows that room. */
  private onRemoteChange(change: DraftChange): void {
    const entry = this.entries.get(change.key);
    if (!entry || !entry.store.getSnapshot().loaded || entry.timer !== undefined) return;
    void this.read(entry);
  }
}
