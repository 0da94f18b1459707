import * as z from 'zod/mini';
import { PROTOCOL_ERROR_CODES } from './errors.js';
import { MAX_REQUEST_ID_CHARS } from './limits.js';
import { AwarenessEventSchemas } from './awareness.js';
import { ChangeEventSchemas } from './changes.js';
import { Id, MessageSchema, RoomSchema, Seq } from './objects.js';

export const RequestIdSchema = z.string().check(z.minLength(1), z.maxLength(MAX_REQUEST_ID_CHARS));

export const ErrorBodySchema = z.object({
  code: z.enum(PROTOCOL_ERROR_CODES as [string, ...string[]]),
  message: z.string(),
  retryable: z.boolean(),
  retryAfterMs: z.optional(z.number().check(z.nonnegative())),
});

/** Events of protocol versions 1 and 1.1 (section 10). Others a client does not know are ignored. */
export const EventSchemas = {
  room_created: z.object({ room: RoomSchema }),
  message_created: z.object({ message: MessageSchema }),
  /** 1.1: `userId` left `roomId`; to the members left and to the leaver's own connections. */
  member_left: z.object({ roomId: Id, userId: Id }),
  /** 1.1: to the members who were there already (the newcomers get `room_created`). */
  members_added: z.object({ room: RoomSchema, userIds: z.array(Id), addedBy: Id }),
  /** 1.1: a member's read cursor moved; `unreadCount` only in the copy sent to that member. */
  read: z.object({ roomId: Id, userId: Id, seq: Seq, unreadCount: z.optional(Seq) }),
  ...AwarenessEventSchemas,
  ...ChangeEventSchemas,
} as const;

export type EventName = keyof typeof EventSchemas;
export type EventData<E extends EventName> = z.output<(typeof EventSchemas)[E]>;
export type ServerEvent = { [E in EventName]: { type: 'event'; event: E; data: EventData<E> } }[EventName];

/** Server-to-client envelopes, before a reply's `data` is checked against its action. */
export const ReplyOkSchema = z.object({ type: z.literal('reply'), requestId: RequestIdSchema, ok: z.literal(true), data: z.optional(z.unknown()) });
export const ReplyErrorSchema = z.object({ type: z.literal('reply'), requestId: RequestIdSchema, ok: z.literal(false), error: ErrorBodySchema });
export const EventEnvelopeSchema = z.object({ type: z.literal('event'), event: z.string(), data: z.optional(z.unknown()) });
export const ErrorFrameSchema = z.object({ type: z.literal('error'), error: ErrorBodySchema });
