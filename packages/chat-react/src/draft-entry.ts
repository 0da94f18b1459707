import type { ChatClient, Store } from '@chat/sdk';

/** What a composer shows. Until `loaded`, the stored draft is still being read. */
export interface DraftValue {
  readonly text: string;
  readonly image: Blob | null;
  readonly loaded: boolean;
}

export type DraftPatch = { text?: string; image?: Blob | null };

const UNLOADED: DraftValue = { text: '', image: null, loaded: false };
const EMPTY: DraftValue = { text: '', image: null, loaded: true };

/**
 * One room's draft for one user, shared by every component of the room (the composer, a
 * "draft" badge in the room list). Edits show at once; `client.drafts.set` runs after a
 * quiet `debounceMs`, or at once when the last component lets go, so nothing typed is lost.
 * Kept per client in a WeakMap: it goes when the client goes.
 */
export class DraftEntry implements Store<DraftValue> {
  private value = UNLOADED;
  private readonly listeners = new Set<() => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Bumped by every local change: a read that started before one is stale. */
  private version = 0;

  constructor(
    private readonly client: ChatClient,
    private readonly userId: string,
    private readonly roomId: string,
  ) {}

  getSnapshot = (): DraftValue => this.value;

  subscribe = (listener: () => void): (() => void) => {
    // The first component reads storage again: another tab may have changed it meanwhile.
    if (this.listeners.size === 0 && this.timer === undefined) this.load();
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.write();
    };
  };

  edit(patch: DraftPatch, debounceMs: number): void {
    const next = { ...this.value, ...patch, loaded: true };
    if (next.text === this.value.text && next.image === this.value.image && this.value.loaded) return;
    this.version++;
    this.set(next);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.write(), debounceMs);
  }

  /** The message was sent (the SDK clears stored drafts itself): drop what was waiting. */
  reset(): void {
    this.version++;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.set(EMPTY);
  }

  private load(): void {
    const version = this.version;
    const apply = (stored: { text: string; image: Blob | null } | null | undefined) => {
      if (version === this.version) this.set(stored ? { text: stored.text, image: stored.image, loaded: true } : EMPTY);
    };
    this.client.drafts.get(this.roomId).then(apply, () => apply(null));
  }

  private write(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    // Never write one user's draft into the next user's session.
    if (this.client.session.getSnapshot()?.user.id !== this.userId) return;
    try {
      this.client.drafts.set(this.roomId, { text: this.value.text, image: this.value.image });
    } catch {
      // A closed client: the draft cannot be kept anywhere any more.
    }
  }

  private set(next: DraftValue): void {
    const held = this.value;
    if (next.text === held.text && next.image === held.image && next.loaded === held.loaded) return;
    this.value = next;
    for (const listener of [...this.listeners]) listener();
  }
}

const entries = new WeakMap<ChatClient, Map<string, DraftEntry>>();

export function draftEntry(client: ChatClient, userId: string, roomId: string): DraftEntry {
  let byKey = entries.get(client);
  if (!byKey) entries.set(client, (byKey = new Map()));
  const key = `${userId}_${roomId}`;
  let entry = byKey.get(key);
  if (!entry) byKey.set(key, (entry = new DraftEntry(client, userId, roomId)));
  return entry;
}
