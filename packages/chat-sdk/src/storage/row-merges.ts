import type { Message } from '../protocol/index.js';
import { CACHE_MESSAGES_PER_ROOM, type SessionRow } from './types.js';

// How both storages merge and pick rows. Apart from types.ts, whose draftKey the page's drafts
// use: this is the host's and storage's code only, and stays out of the page's first load.

/** The protocol fields only: a store's ChatMessage (status, local Blob) must not leak into the cache. */
function toMessage(m: Message): Message {
  const out: Message = {
    id: m.id, roomId: m.roomId, senderId: m.senderId, clientId: m.clientId,
    seq: m.seq, text: m.text, image: m.image, createdAt: m.createdAt,
  };
  if (m.rev) out.rev = m.rev;
  if (m.editedAt !== undefined) out.editedAt = m.editedAt;
  if (m.deletedAt !== undefined) out.deletedAt = m.deletedAt;
  if (m.reactions !== undefined) out.reactions = m.reactions;
  if (m.replyTo !== undefined) out.replyTo = m.replyTo;
  return out;
}

/** Whether `incoming` may replace `held` (the same seq): never by an older change. */
const notOlder = (held: Message | undefined, incoming: Message): boolean => !held || (incoming.rev ?? 0) >= (held.rev ?? 0);

/** `held` and `incoming` merged by seq (incoming wins unless older by `rev`), ascending, the newest `limit` kept. */
export function mergeCachedMessages(held: readonly Message[], incoming: readonly Message[], limit = CACHE_MESSAGES_PER_ROOM): Message[] {
  const bySeq = new Map<number, Message>();
  for (const m of held) bySeq.set(m.seq, m);
  for (const m of incoming) if (notOlder(bySeq.get(m.seq), m)) bySeq.set(m.seq, toMessage(m));
  const merged = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
  return merged.length > limit ? merged.slice(merged.length - limit) : merged;
}

/** `held` with the messages it holds (by seq) replaced by newer copies from `updates`; the same array when none is newer. */
export function updateCachedMessages(held: readonly Message[], updates: readonly Message[]): Message[] {
  const bySeq = new Map<number, Message>();
  for (const m of updates) bySeq.set(m.seq, m);
  let changed = false;
  const out = held.map((m) => {
    const next = bySeq.get(m.seq);
    if (!next || next.id !== m.id || (next.rev ?? 0) <= (m.rev ?? 0)) return m;
    changed = true;
    return toMessage(next);
  });
  return changed ? out : (held as Message[]);
}

/** The session used most recently (the one a new tab resumes). */
export function newest(rows: readonly SessionRow[]): SessionRow | undefined {
  let best: SessionRow | undefined;
  for (const row of rows) if (!best || row.savedAt > best.savedAt) best = row;
  return best;
}
