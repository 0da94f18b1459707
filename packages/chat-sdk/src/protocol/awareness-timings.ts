/** Typing and presence timings (protocol 1.1, docs/protocol.md sections 10.2 and 10.3). */

/** How long a `typing` frame holds: the event's `until` is the server's time plus this. */
export const TYPING_TTL_MS = 5000;
/**
 * A client sends at most one `typing` frame per room per this long while keys are pressed
 * (the SDK's host throttles to it). The server passes a refresh of one user in one room on
 * at most once per `TYPING_COALESCE_MS`, whatever the number of connections sending it.
 */
export const TYPING_REFRESH_MS = 3000;
export const TYPING_COALESCE_MS = 2000;
/** `typing` frames per user (all their connections together): 2 a second, bursts of 10. */
export const TYPING_RATE_PER_SECOND = 2;
export const TYPING_RATE_BURST = 10;
/** A user whose last connection closed is announced offline only after this long (a reload stays online). */
export const PRESENCE_GRACE_MS = 5000;
