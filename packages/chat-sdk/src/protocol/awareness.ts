import * as z from 'zod/mini';
import { MAX_USER_IDS } from './limits.js';
import { Id, Timestamp } from './objects.js';

/**
 * Typing and presence (protocol 1.1, docs/protocol.md sections 10.2 and 10.3): ephemeral
 * state the server keeps in memory only. Spread into the action and event tables.
 */

// The timings live apart so the worker and host use them without the schemas below.
export * from './awareness-timings.js';

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
