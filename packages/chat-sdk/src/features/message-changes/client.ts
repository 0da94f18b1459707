import type { Reactions, ReplyQuote } from '../../protocol/index.js';
import { MAX_QUOTE_CHARS } from '../../protocol/limits.js';
import type { ChatMessage, ChatReaction } from '../../contract/chat-message.js';
import type { ChatChange } from '../../contract/message-changes.js';

/**
 * The client part of message changes (protocol 10.5): pure functions a room's store uses
 * to show a message as the server has it plus the user's pending changes on top.
 */

/** The wire's `{ emoji: userIds }` as a list, the user's own marked. */
export function toReactions(reactions: Reactions | undefined, me: string | undefined): ChatReaction[] | undefined {
  if (!reactions) return undefined;
  const out: ChatReaction[] = [];
  for (const emoji in reactions) {
    const userIds = reactions[emoji]!;
    if (userIds.length > 0) out.push({ emoji, userIds, mine: me !== undefined && userIds.includes(me) });
  }
  return out.length > 0 ? out : undefined;
}

function react(list: readonly ChatReaction[] | undefined, emoji: string, me: string, on: boolean): ChatReaction[] | undefined {
  const out = [...(list ?? [])];
  const at = out.findIndex((r) => r.emoji === emoji);
  const held = out[at];
  if (on) {
    if (!held) out.push({ emoji, userIds: [me], mine: true, pending: true });
    else if (!held.mine) out[at] = { emoji, userIds: [...held.userIds, me], mine: true, pending: true };
  } else if (held?.mine) {
    const userIds = held.userIds.filter((id) => id !== me);
    if (userIds.length > 0) out[at] = { emoji, userIds, mine: false, pending: true };
    else out.splice(at, 1);
  }
  return out.length > 0 ? out : undefined;
}

/**
 * `message` with `changes` (its unacknowledged ones, oldest first) on it: pending ones
 * applied in order, failed ones only listed. Pure: the same input gives an equal output.
 */
export function applyChanges(message: ChatMessage, changes: readonly ChatChange[], me: string): ChatMessage {
  let out: { -readonly [K in keyof ChatMessage]: ChatMessage[K] } = { ...message, changes };
  for (const change of changes) {
    if (change.status !== 'pending' || out.deletedAt !== undefined) continue;
    const { op } = change;
    if (op.kind === 'edit') {
      out.text = op.text;
      out.editedAt = change.createdAt;
    } else if (op.kind === 'delete') {
      const { reactions: _r, localImage: _l, ...rest } = out;
      out = { ...rest, text: '', image: null, deletedAt: change.createdAt };
    } else {
      const reactions = react(out.reactions, op.emoji, me, op.on);
      if (reactions) out.reactions = reactions;
      else delete out.reactions;
    }
  }
  return out;
}

/** How a reply quotes `parent` (protocol 10.5): its text cut to MAX_QUOTE_CHARS, nothing once deleted. */
export function quoteOf(parent: ChatMessage): ReplyQuote {
  const quote: ReplyQuote = { id: parent.id ?? '', senderId: parent.senderId, text: '' };
  if (parent.deletedAt !== undefined) quote.deleted = true;
  else quote.text = [...parent.text].slice(0, MAX_QUOTE_CHARS).join('');
  return quote;
}

export const sameQuote = (a: ReplyQuote, b: ReplyQuote): boolean =>
  a.id === b.id && a.text === b.text && a.deleted === b.deleted && a.senderId === b.senderId;
