/**
 * The presence slice's contract (features/presence/): each tab's store watches a set of
 * users; the host part merges every tab's sets into one watch list, asks the server
 * (`get_presence`) once per user and again after each reconnect, and tells the tabs each
 * set's value whenever it changes, so a tab only stores what it is told.
 */

/** One user's presence as the stores show it. */
export interface UserPresence {
  readonly online: boolean;
  /** Online: since when. Offline: when their last connection closed (last seen). Null: never seen. */
  readonly lastSeenAt: number | null;
}

/** A watched set's value: the users of the set whose presence is known (the server tells co-members only). */
export type PresenceMap = Readonly<Record<string, UserPresence>>;

/** The ids of a set, as one key: deduplicated and sorted, so equal sets are one watch. */
export const presenceKey = (userIds: readonly string[]): string => [...new Set(userIds)].sort().join(' ');

/**
 * Commands a client sends to the presence part of its host, with a set's key (`presenceKey`).
 * Counted: each watch is undone by one unwatch.
 */
export type PresenceCommand = { type: 'watchPresence'; key: string } | { type: 'unwatchPresence'; key: string };

/** A watched set's value, after a watch, a `get_presence` answer or a live change. */
export type PresenceEvent = { type: 'presence'; key: string; presence: PresenceMap };

export interface PresenceResults {
  watchPresence: void;
  unwatchPresence: void;
}
