import type { Message } from '../protocol/index.js';
import type { ChatMessage, RoomMessagesSnapshot } from '../contract/chat-message.js';
import { SeqRuns } from '../contract/seq-runs.js';
import { Subscribable, type Store } from '../contract/store.js';
import type { ChatChange } from '../contract/message-changes.js';
import { applyChanges, quoteOf, sameQuote, toReactions } from '../features/message-changes/client.js';

export interface MergeResult {
  /** How many messages were added or changed. */
  readonly changed: number;
  /** The held seqs are not contiguous any more (the host fills such gaps). */
  readonly hasGap: boolean;
}

/** A server message as the store holds it (reactions as a list, `me`'s own marked). */
export function fromServer(message: Message, me?: string): ChatMessage {
  const { reactions, ...rest } = message;
  const out: ChatMessage = { ...rest, status: 'sent', localCreatedAt: message.createdAt };
  const list = toReactions(reactions, me);
  return list ? { ...out, reactions: list } : out;
}

const newer = (held: ChatMessage, incoming: Message): boolean => (incoming.rev ?? 0) > (held.rev ?? 0);

/**
 * A snapshot shows at most this many of the newest sent messages, and more as the view asks
 * for older ones (`showOlder`), so a live message into a room that holds 100,000 copies a
 * window, not the room. Small enough that the array stays out of V8's large-object space
 * (about 16,000 pointers), where every copy is a fresh mapping of memory.
 */
export const SHOWN_MESSAGES = 5_000;

const bySeq = (a: ChatMessage, b: ChatMessage) => (a.seq as number) - (b.seq as number);

/** Merges two seq-sorted lists in one pass. */
function mergeBySeq(a: readonly ChatMessage[], b: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = new Array(a.length + b.length);
  let i = 0;
  let j = 0;
  let k = 0;
  while (i < a.length && j < b.length) out[k++] = bySeq(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!;
  while (i < a.length) out[k++] = a[i++]!;
  while (j < b.length) out[k++] = b[j++]!;
  return out;
}

/** Two copies of one unsent message that would render the same (Blobs may be clones). */
function sameUnsent(a: ChatMessage, b: ChatMessage): boolean {
  return (
    a.status === b.status &&
    a.text === b.text &&
    a.image?.url === b.image?.url &&
    a.localCreatedAt === b.localCreatedAt &&
    a.error?.code === b.error?.code &&
    a.error?.message === b.error?.message &&
    a.upload?.loaded === b.upload?.loaded &&
    a.localImage?.size === b.localImage?.size &&
    a.localImage?.type === b.localImage?.type
  );
}

/**
 * The internal key is (senderId, clientId), because that pair, not clientId alone, is
 * the server's idempotency key: another sender may use the same clientId. The
 * ChatMessage keeps its clientId untouched, and is what a list renders by.
 */
const keyOf = (senderId: string, clientId: string): string => `${senderId}\u0000${clientId}`;

/**
 * One room's messages, the heart of optimistic UI.
 *
 * Writes cost a Map insert and a dirty flag; the snapshot array is rebuilt lazily, at
 * most once per batch, on the first `getSnapshot` after a change, so `getSnapshot` is
 * always consistent. Every public mutation is a batch of its own and notifies at most once,
 * synchronously, when it ends; wrap several in `batch(fn)` to notify once for all of them.
 * A mutation that changes nothing neither notifies nor makes a new snapshot.
 */
export class RoomMessages extends Subscribable implements Store<RoomMessagesSnapshot> {
  readonly roomId: string;
  private readonly entries = new Map<string, ChatMessage>();
  /** Insertion counter per entry: breaks localCreatedAt ties among unsent messages. */
  private readonly order = new Map<string, number>();
  /** clientId -> key of the unsent messages (the user's own), so the local levers are O(1). */
  private readonly unsent = new Map<string, string>();
  private nextOrder = 0;
  private readonly runs = new SeqRuns();
  private hasMore = false;
  private loading = false;

  private depth = 0;
  private listDirty = false;
  private metaDirty = false;
  private pendingNotify = false;
  private list: readonly ChatMessage[] = [];
  /** Sent messages in seq order, as of the last rebuild; never handed out, so appended to in place. */
  private sent: ChatMessage[] = [];
  /** `sent` as shown (pending changes, fresh quotes), index for index; never handed out either. */
  private sentShown: ChatMessage[] = [];
  /** Sent messages merged since the last rebuild. */
  private fresh: ChatMessage[] = [];
  private snapshot: RoomMessagesSnapshot = { messages: this.list, hasMore: false, loading: false };
  /** Sent messages replaced by a newer change since the last rebuild. */
  private replaced = false;
  /** Pending changes were set or removed since the last rebuild. */
  private changesMoved = false;
  /** A held message replies to another: its quote follows the parent as shown. */
  private hasReplies = false;
  /** Server id -> key of the held messages; made on the first reply's lookup. */
  private keyById: Map<string, string> | null = null;
  /** The user's unacknowledged changes to this room's messages, by clientChangeId. */
  private readonly pendingChanges = new Map<string, ChatChange>();
  /** Per message key, the last shown form: the same object while its inputs are the same. */
  private readonly shown = new Map<string, { base: ChatMessage; sig: string; quote: ChatMessage | undefined; out: ChatMessage }>();
  /** How many of the newest sent messages a snapshot shows; grows with `showOlder`. */
  private window = SHOWN_MESSAGES;
  /** Sent messages held but older than the window, as of the last rebuild. */
  private hidden = 0;
  /** How often the array was rebuilt; tests use it to prove the batching. */
  rebuildCount = 0;

  constructor(
    roomId: string,
    /** The signed-in user (whose reactions are `mine`). */
    private readonly me: () => string | undefined = () => undefined,
  ) {
    super();
    this.roomId = roomId;
  }

  getSnapshot = (): RoomMessagesSnapshot => {
    if (this.listDirty) {
      this.list = this.rebuild();
      this.listDirty = false;
      this.metaDirty = true;
    }
    if (this.metaDirty) {
      this.snapshot = { messages: this.list, hasMore: this.hasMore || this.hidden > 0, loading: this.loading };
      this.metaDirty = false;
    }
    return this.snapshot;
  };

  /** Runs `fn` and notifies listeners once at the end, if anything changed. */
  batch<R>(fn: () => R): R {
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
      if (this.depth === 0 && this.pendingNotify) {
        this.pendingNotify = false;
        this.notify();
      }
    }
  }

  /**
   * Merges server messages (a reply, an event, a history or catch-up page) in any order,
   * any number of times. One matching a local message by (senderId, clientId) replaces it
   * in place: `sent`, server fields filled, `localImage` kept so the picture doesn't flicker.
   */
  mergeServer(messages: readonly Message[]): MergeResult {
    let changed = 0;
    this.batch(() => {
      for (const message of messages) {
        if (message.roomId !== this.roomId) continue;
        const key = keyOf(message.senderId, message.clientId);
        const held = this.entries.get(key);
        // A sent message changes only by a newer change (a higher rev).
        if (held?.status === 'sent') {
          if (newer(held, message)) changed += this.replace(key, held, message);
          continue;
        }
        let next = fromServer(message, this.me());
        if (held) {
          next = { ...next, localCreatedAt: held.localCreatedAt };
          if (held.localImage !== undefined) next = { ...next, localImage: held.localImage };
        } else {
          this.order.set(key, this.nextOrder++);
        }
        this.entries.set(key, next);
        if (next.id) this.keyById?.set(next.id, key);
        if (next.replyTo) this.hasReplies = true;
        this.fresh.push(next);
        if (this.unsent.get(message.clientId) === key) this.unsent.delete(message.clientId);
        this.runs.add(message.seq);
        changed++;
      }
      if (changed > 0) this.changedList();
    });
    return { changed, hasGap: this.runs.hasGap };
  }

  /**
   * Changed messages (protocol 10.5): each replaces the held copy when its `rev` is newer.
   * Messages not held are left out (history brings them as they are when it is fetched).
   */
  mergeUpdates(messages: readonly Message[]): number {
    let changed = 0;
    this.batch(() => {
      for (const message of messages) {
        const key = keyOf(message.senderId, message.clientId);
        const held = this.entries.get(key);
        if (message.roomId === this.roomId && held?.status === 'sent' && newer(held, message)) changed += this.replace(key, held, message);
      }
    });
    return changed;
  }

  /** A change of the user's queued, failed or pending again. */
  setChange(change: ChatChange): void {
    if (change.roomId !== this.roomId) return;
    const held = this.pendingChanges.get(change.clientChangeId);
    if (held && held.status === change.status && held.error?.code === change.error?.code) return;
    this.pendingChanges.set(change.clientChangeId, change);
    this.changesMoved = true;
    this.batch(() => this.changedList());
  }

  /** A change left the outbox (applied, or discarded). */
  removeChange(clientChangeId: string): void {
    if (!this.pendingChanges.delete(clientChangeId)) return;
    this.changesMoved = true;
    this.batch(() => this.changedList());
  }

  /** A message as shown now (older than the window too), by its server id or its clientId (the user's own first). */
  find(key: string): ChatMessage | undefined {
    const visible = this.getSnapshot().messages;
    const first = (match: (m: ChatMessage) => boolean) => {
      const shown = visible.find(match);
      if (shown) return shown;
      // Older than the window: searched where they are, not copied out of it.
      for (let i = this.hidden - 1; i >= 0; i--) if (match(this.sentShown[i]!)) return this.sentShown[i];
      return undefined;
    };
    return first((m) => m.id === key) ?? first((m) => m.clientId === key && m.senderId === this.me()) ?? first((m) => m.clientId === key);
  }

  /**
   * Widens the window by `count` older messages. True when held messages were hidden above
   * it (they show now, nothing to fetch); false when the server's next older page is needed,
   * which the widened window will show when it is merged.
   */
  showOlder(count: number): boolean {
    this.getSnapshot(); // `hidden` as of now
    const had = this.hidden > 0;
    this.window += count;
    if (had) this.batch(() => this.changedList());
    return had;
  }

  private replace(key: string, held: ChatMessage, message: Message): number {
    let next = { ...fromServer(message, this.me()), localCreatedAt: held.localCreatedAt };
    if (held.localImage !== undefined && message.deletedAt === undefined) next = { ...next, localImage: held.localImage };
    this.entries.set(key, next);
    if (next.replyTo) this.hasReplies = true;
    this.replaced = true;
    this.changedList();
    return 1;
  }

  /** Adds an optimistic message (status `pending`). A message the server already sent wins. */
  addPending(message: ChatMessage): void {
    const key = keyOf(message.senderId, message.clientId);
    const held = this.entries.get(key);
    if (held?.status === 'sent' || message.roomId !== this.roomId) return;
    // The host echoes a tab's own send back to every tab: the same message again changes nothing.
    if (held && sameUnsent(held, message)) return;
    if (!held) this.order.set(key, this.nextOrder++);
    this.entries.set(key, message);
    if (message.replyTo) this.hasReplies = true;
    this.unsent.set(message.clientId, key);
    this.batch(() => this.changedList());
  }

  /** Drops an unsent message (the user discards it). Returns false if there was none. */
  remove(clientId: string, senderId?: string): boolean {
    const key = this.findLocal(clientId, senderId);
    if (key === undefined) return false;
    this.entries.delete(key);
    this.order.delete(key);
    if (this.unsent.get(clientId) === key) this.unsent.delete(clientId);
    this.batch(() => this.changedList());
    return true;
  }

  setHasMore(value: boolean): void {
    if (this.hasMore === value) return;
    this.hasMore = value;
    this.changedMeta();
  }

  setLoading(value: boolean): void {
    if (this.loading === value) return;
    this.loading = value;
    this.changedMeta();
  }

  /** Every seq from the lowest held one up to this is held; 0 when none is held. */
  get highestContiguousSeq(): number {
    return this.runs.highestContiguous;
  }

  get lowestSeq(): number | null {
    return this.runs.lowest;
  }

  /** Finds an unsent message by clientId; with no senderId, any sender's. */
  private findLocal(clientId: string, senderId: string | undefined): string | undefined {
    if (senderId !== undefined) {
      const key = keyOf(senderId, clientId);
      const held = this.entries.get(key);
      return held && held.status !== 'sent' ? key : undefined;
    }
    return this.unsent.get(clientId);
  }

  private changedList(): void {
    this.listDirty = true;
    this.pendingNotify = true;
  }

  private changedMeta(): void {
    this.metaDirty = true;
    this.pendingNotify = true;
    this.batch(() => {});
  }

  /**
   * Sent messages are kept sorted, and as shown, across rebuilds in private arrays. The
   * common case, live messages above the newest held one and nothing else changed, only
   * appends them there: O(k), plus a copy of the window's pointers for the new snapshot
   * (a snapshot is immutable: a view may still hold the last one). Anything else (a history
   * page below, a changed message, a pending change) merges and shows every message again:
   * O(n + k log k).
   */
  private rebuild(): readonly ChatMessage[] {
    this.rebuildCount++;
    const fresh = this.fresh.sort(bySeq);
    this.fresh = [];
    const last = this.sent.at(-1);
    const appendOnly = !this.replaced && !this.changesMoved && (fresh.length === 0 || !last || (fresh[0]!.seq as number) > (last.seq as number));
    const byTarget = this.changesByTarget();
    const seen = new Set<string>();
    const decorates = this.decorates();
    if (appendOnly) {
      for (const message of fresh) {
        this.sent.push(message);
        this.sentShown.push(decorates ? this.show(message, byTarget, seen) : message);
      }
    } else {
      if (this.replaced) {
        // Changed messages take their place.
        const current = (m: ChatMessage) => this.entries.get(keyOf(m.senderId, m.clientId)) ?? m;
        this.sent = this.sent.map(current);
        fresh.forEach((m, i) => (fresh[i] = current(m)));
      }
      if (fresh.length > 0) this.sent = !last || (fresh[0]!.seq as number) > (last.seq as number) ? this.sent.concat(fresh) : mergeBySeq(this.sent, fresh);
      this.sentShown = decorates ? this.sent.map((m) => this.show(m, byTarget, seen)) : this.sent.slice();
    }
    const unsent = this.unsentShown(decorates, byTarget, seen);
    // Every message was shown again: a memo no message used is stale.
    if (!appendOnly) for (const key of this.shown.keys()) if (!seen.has(key)) this.shown.delete(key);
    this.replaced = false;
    this.changesMoved = false;
    this.hidden = Math.max(0, this.sentShown.length - this.window);
    const out = this.sentShown.slice(this.hidden);
    for (const message of unsent) out.push(message);
    return out;
  }

  /** Whether any message may show differently from its held copy (a pending change, a reply's quote). */
  private decorates(): boolean {
    return this.pendingChanges.size > 0 || this.shown.size > 0 || this.hasReplies;
  }

  /** The pending changes per message key, each list in the order they were made. */
  private changesByTarget(): ReadonlyMap<string, ChatChange[]> {
    const byTarget = new Map<string, ChatChange[]>();
    for (const change of this.pendingChanges.values()) {
      const key = keyOf(change.senderId, change.clientId);
      const list = byTarget.get(key);
      if (list) list.push(change);
      else byTarget.set(key, [change]);
    }
    for (const list of byTarget.values()) list.sort((a, b) => a.order - b.order);
    return byTarget;
  }

  /** The unsent messages as shown, by client time, then by insertion. */
  private unsentShown(decorates: boolean, byTarget: ReadonlyMap<string, ChatChange[]>, seen: Set<string>): ChatMessage[] {
    if (this.unsent.size === 0) return [];
    const unsent: Array<{ message: ChatMessage; order: number }> = [];
    for (const key of this.unsent.values()) {
      const message = this.entries.get(key);
      if (message) unsent.push({ message, order: this.order.get(key) ?? 0 });
    }
    unsent.sort((a, b) => a.message.localCreatedAt - b.message.localCreatedAt || a.order - b.order);
    return unsent.map(({ message }) => (decorates ? this.show(message, byTarget, seen) : message));
  }

  /**
   * One message with its pending changes and its parent's quote as shown now. It keeps its
   * shown object while its own inputs (the held copy, its changes, its parent as shown) are
   * the same, so a reaction re-renders one row. `seen` collects the keys whose memo is used.
   */
  private show(base: ChatMessage, byTarget: ReadonlyMap<string, ChatChange[]>, seen: Set<string>): ChatMessage {
    const key = keyOf(base.senderId, base.clientId);
    const changes = byTarget.get(key);
    const parent = base.replyTo?.id ? this.shownById(base.replyTo.id) : undefined;
    const sig = changes?.map((c) => c.clientChangeId + c.status).join() ?? '';
    const memo = this.shown.get(key);
    if (memo && memo.base === base && memo.sig === sig && memo.quote === parent) {
      seen.add(key);
      return memo.out;
    }
    let shown = changes ? applyChanges(base, changes, this.me() ?? '') : base;
    if (parent && shown.replyTo) {
      const quote = quoteOf(parent);
      if (!sameQuote(quote, shown.replyTo)) shown = { ...shown, replyTo: quote };
    }
    if (shown === base) this.shown.delete(key);
    else {
      this.shown.set(key, { base, sig, quote: parent, out: shown });
      seen.add(key);
    }
    return shown;
  }

  /**
   * A held message as shown now, by server id (a reply's parent). Parents come before their
   * replies, so in a rebuild the parent's memo is already current when a reply asks.
   */
  private shownById(id: string): ChatMessage | undefined {
    if (!this.keyById) {
      // Built on the first reply and kept up to date from then on: rooms without replies never pay for it.
      this.keyById = new Map();
      for (const [key, message] of this.entries) if (message.id) this.keyById.set(message.id, key);
    }
    const key = this.keyById.get(id);
    return key === undefined ? undefined : (this.shown.get(key)?.out ?? this.entries.get(key));
  }
}
