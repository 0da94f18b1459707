/**
 * The typing slice's contract (features/typing/): the host part throttles what every tab
 * of the user asks into one stream of `typing` frames, and tells the tabs who else types.
 */

/** Commands a client sends to the typing part of its host. */
export type TypingCommand = { type: 'startTyping'; roomId: string } | { type: 'stopTyping'; roomId: string };

/**
 * Who else types in a room now, sent whenever that changes: a frame from the server, their
 * message, or an expiry (the host's timer: expired entries go without any frame).
 */
export type TypingEvent = { type: 'typing'; roomId: string; userIds: string[] };

export interface TypingResults {
  startTyping: void;
  stopTyping: void;
}

/** A room's typing store: the others typing there now, the caller never included. */
export interface TypingState {
  readonly userIds: readonly string[];
}
