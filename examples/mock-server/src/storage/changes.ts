import { ChatError, type Image, MAX_QUOTE_CHARS, MAX_REACTIONS_PER_MESSAGE, type Reactions, type ReplyQuote } from '@chat/sdk/protocol';
import type { MessageChange } from './types.js';

/** What a change (protocol 10.5) can alter of a message. */
export interface ChangeState {
  text: string;
  image: Image | null;
  editedAt?: number | undefined;
  deletedAt?: number | undefined;
  reactions?: Reactions | undefined;
}

/**
 * The message after `change`, or null when it asks for what is already so (a reaction
 * already there or not there, deleting a tombstone). Throws CONFLICT for an edit of or a
 * reaction to a tombstone, TOO_LARGE for a distinct emoji past the 50th. Shared by both
 * storages so they cannot disagree; the caller writes the result in its transaction.
 */
export function planChange(current: ChangeState, change: MessageChange): ChangeState | null {
  const tombstone = current.deletedAt !== undefined;
  switch (change.kind) {
    case 'delete':
      return tombstone ? null : { text: '', image: null, deletedAt: change.at };
    case 'edit': {
      if (tombstone) throw new ChatError('CONFLICT', 'this message was deleted; it cannot be edited');
      const { reactions, image } = current;
      return { text: change.text, image, editedAt: change.at, ...(reactions ? { reactions } : {}) };
    }
    case 'react': {
      if (tombstone) throw new ChatError('CONFLICT', 'this message was deleted; it cannot take reactions');
      const reactions: Reactions = {};
      for (const [emoji, ids] of Object.entries(current.reactions ?? {})) reactions[emoji] = [...ids];
      const ids = reactions[change.emoji] ?? [];
      if (ids.includes(change.userId) === change.on) return null;
      if (change.on) {
        if (ids.length === 0 && Object.keys(reactions).length >= MAX_REACTIONS_PER_MESSAGE) {
          throw new ChatError('TOO_LARGE', `a message holds at most ${MAX_REACTIONS_PER_MESSAGE} different emoji`);
        }
        reactions[change.emoji] = [...ids, change.userId];
      } else {
        const left = ids.filter((id) => id !== change.userId);
        if (left.length > 0) reactions[change.emoji] = left;
        else delete reactions[change.emoji];
      }
      const { reactions: _old, ...rest } = current;
      return Object.keys(reactions).length > 0 ? { ...rest, reactions } : rest;
    }
  }
}

/** A reply's quote of its parent as the parent is now: its text cut to 100 code points, nothing of a tombstone. */
export function quoteOf(parent: { id: string; senderId: string; text: string; deletedAt?: number | null | undefined }): ReplyQuote {
  if (parent.deletedAt != null) return { id: parent.id, senderId: parent.senderId, text: '', deleted: true };
  return { id: parent.id, senderId: parent.senderId, text: cutCodePoints(parent.text, MAX_QUOTE_CHARS) };
}

function cutCodePoints(text: string, max: number): string {
  if (text.length <= max) return text; // at most `max` UTF-16 units is at most `max` code points
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join('');
}
