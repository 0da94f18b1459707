import * as z from 'zod/mini';
import { MAX_USER_IDS } from './limits.js';
import { Id, Timestamp } from './objects.js';

/**
 * Typing and presence (protocol 1.1, docs/protocol.md sections 10.2 and 10.3): ephemeral
 * state the server keeps in memory only. Spread into the action and event tables.
 */

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

export const PresenceSchema = z.object({
  userId: Id,
  online: z.boolean(),
  /** Online: since when (their first connection of this stretch). Offline: when their last connection closed. Null: never seen. */
  lastSeenAt: z.nullable(Timestamp),
});
export type Presence = z.infer<typeof PresenceSchema>;

export const AwarenessRequestSchemas = {
  typing: z.object({ roomId: Id, stop: z.optional(z.boolean()) }),
  get_presence: z.object({ userIds: z.array(Id).check(z.minLength(1), z.maxLength(MAX_USER_IDS)) }),
} as const;

export const AwarenessReplySchemas = {
  /** `until`: when the typing shown to others ends (server time); 0 after a stop. */
  typing: z.object({ until: Timestamp }),
  /** Only the caller and people who share a room with the caller; others are left out. */
  get_presence: z.object({ presence: z.array(PresenceSchema) }),
} as const;

export const AwarenessEventSchemas = {
  /** `until` 0: stopped. */
  typing: z.object({ roomId: Id, userId: Id, until: Timestamp }),
  presence: PresenceSchema,
} as const;
