import { ChatError } from './errors.js';
import { MAX_ROOM_MEMBERS } from './limits.js';

/**
 * The `create_room` member rule (protocol section 11): drop duplicates and the caller,
 * then 1 to 99 must be left. Returns the other members in first-seen order.
 */
export function normalizeMemberIds(memberIds: readonly string[], callerId: string): string[] {
  const others = [...new Set(memberIds)].filter((id) => id !== callerId);
  if (others.length === 0) throw new ChatError('BAD_REQUEST', 'a room needs at least one member besides its creator');
  if (others.length > MAX_ROOM_MEMBERS) {
    throw new ChatError('TOO_LARGE', `a room holds at most ${MAX_ROOM_MEMBERS} members besides its creator`);
  }
  return others;
}
