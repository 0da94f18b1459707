import type { ChatMessage, User } from '@chat/sdk';
import { useMessageActions, useUserId } from '@chat/react';
import { useCallback } from 'react';

/** The reaction bar's few emoji, with the words a screen reader says for them. */
export const QUICK_REACTIONS: ReadonlyArray<readonly [emoji: string, label: string]> = [
  ['👍', 'thumbs up'],
  ['❤️', 'heart'],
  ['😂', 'laughing'],
  ['🎉', 'party'],
  ['😮', 'surprised'],
];

/** A message's server id when it has one (others' messages always do), else its clientId. */
export const messageKey = (message: ChatMessage): string => message.id ?? message.clientId;

/**
 * Toggles the user's reaction on a message: takes it back when it is already theirs, adds it
 * otherwise. Shown at once (pending), sent through the outbox; a refusal comes back as a
 * failed change (see ChangeStatus). `onProblem` hears what the SDK refuses synchronously.
 */
export function useToggleReaction(message: ChatMessage, onProblem: (failure: unknown) => void): (emoji: string) => void {
  const { react, unreact } = useMessageActions();
  return useCallback(
    (emoji: string) => {
      const mine = message.reactions?.some((r) => r.emoji === emoji && r.mine) ?? false;
      try {
        if (mine) unreact(message.roomId, messageKey(message), emoji);
        else react(message.roomId, messageKey(message), emoji);
      } catch (failure) {
        onProblem(failure);
      }
    },
    [message, react, unreact, onProblem],
  );
}

interface ChipsProps {
  message: ChatMessage;
  lookup: (id: string) => User | undefined;
  onToggle(emoji: string): void;
}

/** The reactions under a message: one chip per emoji with its count; the user's own are highlighted, and a click toggles. */
export function ReactionChips({ message, lookup, onToggle }: ChipsProps) {
  const me = useUserId();
  const reactions = message.reactions ?? [];
  if (reactions.length === 0 || message.deletedAt !== undefined) return null;
  return (
    <ul className="reactions" aria-label="Reactions">
      {reactions.map((reaction) => {
        const names = reaction.userIds.map((id) => (id === me ? 'you' : (lookup(id)?.name ?? 'someone')));
        const count = reaction.userIds.length;
        return (
          <li key={reaction.emoji}>
            <button
              type="button"
              className={`reaction${reaction.mine ? ' mine' : ''}${reaction.pending ? ' pending' : ''}`}
              aria-pressed={reaction.mine}
              aria-label={`${reaction.emoji} ${count}, from ${names.join(', ')}${reaction.mine ? '. Take yours back' : '. Add yours'}`}
              title={`${names.join(', ')}${reaction.pending ? ' (saving…)' : ''}`}
              onClick={() => onToggle(reaction.emoji)}
            >
              <span aria-hidden="true">{reaction.emoji}</span>
              <span className="reaction-count" aria-hidden="true">
                {count}
              </span>
            </button>
          </li>
        );
      })}
    </ul>
  );
}
