import type { User } from '@chat/sdk';
import { usePresence, useTyping } from '@chat/react';
import { formatTime } from './format.js';

type Lookup = (id: string) => User | undefined;

/** "Ada is typing…" under the message list: the others typing in the room now. */
export function TypingLine({ roomId, lookup }: { roomId: string; lookup: Lookup }) {
  const { userIds } = useTyping(roomId);
  const names = userIds.map((id) => lookup(id)?.name ?? 'Someone');
  const text =
    names.length === 0 ? '' : names.length === 1 ? `${names[0]} is typing…` : names.length === 2 ? `${names[0]} and ${names[1]} are typing…` : `${names.length} people are typing…`;
  return (
    <p className="typing-line" aria-live="polite">
      {text}
    </p>
  );
}

/** A member's name with a green dot while they are online. */
export function MemberName({ userId, name }: { userId: string; name: string }) {
  const online = usePresence([userId])[userId]?.online ?? false;
  return (
    <span className="member">
      {name}
      {online && <span className="online-dot" title="Online" aria-label="online" data-online="true" />}
    </span>
  );
}

/**
 * "online" or "last seen …" for the header of a room with one other person; for a group,
 * how many others are online. Presence is only told for people sharing a room with us.
 */
export function LastSeen({ others }: { others: readonly string[] }) {
  const presence = usePresence(others);
  if (others.length === 1) {
    const state = presence[others[0]!];
    if (!state) return null;
    if (state.online) return <span className="last-seen online">online</span>;
    return state.lastSeenAt ? <span className="last-seen">last seen {formatTime(state.lastSeenAt)}</span> : null;
  }
  const online = others.filter((id) => presence[id]?.online).length;
  return <span className="last-seen">{online > 0 ? `${online} online` : lastSeenOf(others.map((id) => presence[id]?.lastSeenAt ?? null))}</span>;
}

function lastSeenOf(times: Array<number | null>): string {
  const latest = Math.max(0, ...times.map((t) => t ?? 0));
  return latest > 0 ? `last seen ${formatTime(latest)}` : '';
}
