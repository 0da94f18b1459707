import * as z from 'zod/mini';
import type { ProtocolErrorCode } from './errors.js';
import {
  CLIENT_KEY_PATTERN,
  MAX_CLIENT_ID_CHARS,
  MAX_CURSOR_CHARS,
  MAX_EMAIL_CHARS,
  MAX_PAGE_LIMIT,
  MAX_QUERY_CHARS,
  MAX_ROOM_NAME_CHARS,
  MAX_TEXT_CHARS,
  MAX_TOKEN_CHARS,
  MAX_URL_CHARS,
  MAX_USER_IDS,
  MAX_USER_NAME_CHARS,
  PROTOCOL_VERSIONS,
  type ProtocolVersion,
  codePointLength,
  isProtocolVersion,
} from './limits.js';
import { AwarenessReplySchemas, AwarenessRequestSchemas } from './awareness.js';
import { ChangeReplySchemas, ChangeRequestSchemas } from './changes.js';
import { Id, ImageSchema, MessageSchema, RoomSchema, Seq, Timestamp, UserSchema } from './objects.js';

/**
 * A check whose failure maps to a specific protocol error code rather than BAD_REQUEST.
 * The parse helpers read `params.code` back from the issue.
 */
function coded<T>(code: ProtocolErrorCode, message: string, ok: (value: T) => boolean) {
  return z.refine<T>(ok, { message, params: { code } });
}

const maxChars = (max: number) => (value: string) => codePointLength(value) <= max;

/** Trimmed, lower-cased, a valid address of at most 254 characters (over: BAD_REQUEST). */
export const EmailSchema = z.string().check(
  z.trim(),
  z.toLowerCase(),
  z.refine(maxChars(MAX_EMAIL_CHARS), `email is longer than ${MAX_EMAIL_CHARS} characters`),
  z.email('email is not a valid address'),
);

const UserNameSchema = z.string().check(
  z.trim(),
  z.refine((v) => v.length > 0, 'name must not be blank'),
  z.refine(maxChars(MAX_USER_NAME_CHARS), `name is longer than ${MAX_USER_NAME_CHARS} characters`),
);

export const ClientIdSchema = z.string().check(
  z.minLength(1, 'clientId must not be empty'),
  z.refine(maxChars(MAX_CLIENT_ID_CHARS), `clientId is longer than ${MAX_CLIENT_ID_CHARS} characters`),
  z.regex(CLIENT_KEY_PATTERN, 'clientId may hold only A-Z, a-z, 0-9, _ and -'),
);

export const TextSchema = z.string().check(
  coded<string>('TOO_LARGE', `text is longer than ${MAX_TEXT_CHARS} characters`, maxChars(MAX_TEXT_CHARS)),
);

/** A blank or missing name becomes null; over 100 characters is TOO_LARGE. */
export const RoomNameSchema = z.pipe(
  z.nullable(z.string().check(
    z.trim(),
    coded<string>('TOO_LARGE', `room name is longer than ${MAX_ROOM_NAME_CHARS} characters`, maxChars(MAX_ROOM_NAME_CHARS)),
  )),
  z.transform((name: string | null) => (name ? name : null)),
);

const Limit = z.int().check(z.minimum(1), z.maximum(MAX_PAGE_LIMIT));
const Empty = z.object({});

/** Request `data` of every action (what the server reads after dropping unknown fields). */
export const RequestSchemas = {
  create_user: z.object({
    email: EmailSchema,
    name: z.optional(UserNameSchema),
  }),
  create_connection: z.object({
    protocolVersion: z.pipe(
      z.number().check(
        coded<number>('UNSUPPORTED_PROTOCOL', `this server speaks protocol versions ${PROTOCOL_VERSIONS.join(' and ')}`, isProtocolVersion),
      ),
      z.transform((v: number) => v as ProtocolVersion),
    ),
    email: z.optional(EmailSchema),
    token: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_TOKEN_CHARS))),
  }).check(z.refine((d) => (d.email === undefined) !== (d.token === undefined), 'give exactly one of email and token')),
  delete_connection: Empty,
  // With `ids` the directory is looked up by id and the paging fields are ignored.
  get_users: z.object({
    ids: z.optional(z.array(Id).check(z.minLength(1), z.maxLength(MAX_USER_IDS))),
    query: z.optional(z.string().check(z.maxLength(MAX_QUERY_CHARS))),
    limit: z.optional(Limit),
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_CURSOR_CHARS))),
  }),
  // Paged in 1.1: the cursor is the reply's `nextCursor`; no `limit` is the first page of 100.
  get_user_rooms: z.object({
    cursor: z.optional(z.string().check(z.minLength(1), z.maxLength(MAX_CURSOR_CHARS))),
    limit: z.optional(Limit),
  }),
  create_room: z.object({
    name: z.optional(RoomNameSchema),
    // The 1-to-99 rule counts what is left after dropping duplicates and the caller,
    // so the server applies it (see normalizeMemberIds); this only bounds the shape.
    memberIds: z.array(Id),
    /** 1.1: the idempotency key; a repeat from the same creator returns the room it made. */
    clientId: z.optional(ClientIdSchema),
  }),
  /** 1.1: the caller leaves; `block` also stops whoever added them from adding them again. */
  leave_room: z.object({
    roomId: Id,
    clientId: ClientIdSchema,
    block: z.optional(z.boolean()),
  }),
  /** 1.1: a member adds others (duplicates and members dropped; 100 members at most). */
  add_members: z.object({
    roomId: Id,
    clientId: ClientIdSchema,
    userIds: z.array(Id).check(z.minLength(1), z.maxLength(MAX_USER_IDS)),
  }),
  create_message: z.object({
    roomId: Id,
    clientId: ClientIdSchema,
    text: z.optional(TextSchema),
    image: z.optional(z.nullable(z.object({ url: z.string().check(z.minLength(1), z.maxLength(MAX_URL_CHARS)) }))),
    /** 1.1 (10.5): the id of the message of the same room this one answers. */
    replyTo: z.optional(Id),
  }).check(
    z.refine(
      (d) => (d.text !== undefined && d.text.trim().length > 0) || (d.image !== undefined && d.image !== null),
      'a message needs a non-blank text or an image',
    ),
  ),
  get_messages: z.object({
    roomId: Id,
    before: z.optional(z.int().check(z.positive())),
    after: z.optional(Seq),
    limit: z.optional(Limit),
  }).check(z.refine((d) => d.before === undefined || d.after === undefined, 'give at most one of before and after')),
  ping: Empty,
  /** 1.1: moves the caller's read cursor up to `seq` (never back; clamped to the room's lastSeq). */
  mark_read: z.object({ roomId: Id, seq: Seq }),
  ...AwarenessRequestSchemas,
  ...ChangeRequestSchemas,
} as const;

/** Reply `data` of every action. */
export const ReplySchemas = {
  create_user: z.object({ user: UserSchema }),
  create_connection: z.object({
    user: UserSchema,
    token: z.string(),
    protocolVersion: z.literal(PROTOCOL_VERSIONS),
    serverTime: Timestamp,
  }),
  delete_connection: z.object({}),
  get_users: z.object({ users: z.array(UserSchema), nextCursor: z.nullable(z.string()) }),
  // nextCursor: null on the last page; a version-1 server sends none (one page of everything).
  get_user_rooms: z.object({ rooms: z.array(RoomSchema), nextCursor: z.optional(z.nullable(z.string())) }),
  create_room: z.object({ room: RoomSchema, duplicate: z.optional(z.boolean()) }),
  leave_room: z.object({ roomId: Id, duplicate: z.boolean() }),
  add_members: z.object({ room: RoomSchema, addedIds: z.array(Id), duplicate: z.boolean() }),
  create_message: z.object({ message: MessageSchema, duplicate: z.boolean() }),
  get_messages: z.object({ messages: z.array(MessageSchema), hasMore: z.boolean() }),
  ping: z.object({ serverTime: Timestamp }),
  /** The caller's cursor after the call (it may be above the `seq` asked for) and their unread count. */
  mark_read: z.object({ roomId: Id, seq: Seq, unreadCount: Seq }),
  ...AwarenessReplySchemas,
  ...ChangeReplySchemas,
} as const;

export type ActionName = keyof typeof RequestSchemas;
export const ACTION_NAMES = Object.keys(RequestSchemas) as ActionName[];
/** Actions allowed before `create_connection`. */
export const UNAUTHENTICATED_ACTIONS: ReadonlySet<ActionName> = new Set(['create_user', 'create_connection', 'ping']);

export function isActionName(value: unknown): value is ActionName {
  return typeof value === 'string' && Object.hasOwn(RequestSchemas, value);
}

/** What a caller writes (before trimming and defaults). */
export type RequestInput<A extends ActionName> = z.input<(typeof RequestSchemas)[A]>;
/** What the server reads (after trimming, lower-casing, dropping unknown fields). */
export type RequestData<A extends ActionName> = z.output<(typeof RequestSchemas)[A]>;
export type ReplyData<A extends ActionName> = z.output<(typeof ReplySchemas)[A]>;

export { ImageSchema };
