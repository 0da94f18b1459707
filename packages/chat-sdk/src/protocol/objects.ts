import * as z from 'zod/mini';
import { MAX_ID_CHARS, MAX_URL_CHARS } from './limits.js';

/** An opaque id: 1 to 64 characters. */
export const Id = z.string().check(z.minLength(1), z.maxLength(MAX_ID_CHARS));
/** Milliseconds since the Unix epoch, set by the server. */
export const Timestamp = z.int().check(z.nonnegative());
export const Seq = z.int().check(z.nonnegative());

export const UserSchema = z.object({
  id: Id,
  email: z.string(),
  name: z.string(),
  createdAt: Timestamp,
});

export const ImageSchema = z.object({
  url: z.string().check(z.minLength(1), z.maxLength(MAX_URL_CHARS)),
  mime: z.string(),
  size: z.int().check(z.nonnegative()),
  width: z.optional(z.int().check(z.positive())),
  height: z.optional(z.int().check(z.positive())),
});

/**
 * 1.1, reactions (docs/protocol.md 10.5): emoji -> the ids of the users who reacted with it,
 * oldest first. Checked by hand for the same reason as `ReadSeqsSchema`.
 */
export const ReactionsSchema = z.custom<Record<string, string[]>>(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.values(value).every((ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id.length <= MAX_ID_CHARS)),
);

/** 1.1: the message a reply answers, as it is when the reply is read (10.5). */
export const ReplyQuoteSchema = z.object({
  id: Id,
  senderId: Id,
  /** The parent's text, cut to `MAX_QUOTE_CHARS`; empty when it was deleted or is an image alone. */
  text: z.string(),
  /** The parent was deleted: nothing of it is quoted. */
  deleted: z.optional(z.boolean()),
});

export const MessageSchema = z.object({
  id: Id,
  roomId: Id,
  senderId: Id,
  clientId: Id,
  seq: z.int().check(z.positive()),
  text: z.string(),
  image: z.nullable(ImageSchema),
  createdAt: Timestamp,
  /** 1.1 (10.5): the room's change counter at this message's last change; absent or 0 when never changed. */
  rev: z.optional(Seq),
  /** 1.1: when the sender last edited the text. */
  editedAt: z.optional(Timestamp),
  /** 1.1: a tombstone: text and image are gone, `seq` stays so history has no gap. */
  deletedAt: z.optional(Timestamp),
  reactions: z.optional(ReactionsSchema),
  replyTo: z.optional(ReplyQuoteSchema),
});

/**
 * A room's read cursors, user id -> seq (protocol 10.4). Checked by hand: zod's `record`
 * would add 0.7 KB gzipped to the browser's first load for this one field.
 */
export const ReadSeqsSchema = z.custom<Record<string, number>>(
  (value) =>
    typeof value === 'object' && value !== null && !Array.isArray(value) &&
    Object.entries(value).every(([id, seq]) => id.length <= MAX_ID_CHARS && Number.isSafeInteger(seq) && (seq as number) >= 0),
);

export const RoomSchema = z.object({
  id: Id,
  name: z.nullable(z.string()),
  memberIds: z.array(Id),
  createdBy: Id,
  createdAt: Timestamp,
  lastSeq: Seq,
  lastMessage: z.nullable(MessageSchema),
  /**
   * 1.1, read state (docs/protocol.md 10.4): each member's read cursor (the highest seq they
   * have read), members still at 0 left out. Absent from a server that does not keep it.
   */
  readSeqs: z.optional(ReadSeqsSchema),
  /** 1.1: messages after the caller's cursor that others sent (per caller; absent in events to several members). */
  unreadCount: z.optional(Seq),
  /** 1.1 (10.5): the room's change counter: the `rev` of its latest edit, delete or reaction; 0 before any. */
  lastRev: z.optional(Seq),
});

export type User = z.infer<typeof UserSchema>;
export type Image = z.infer<typeof ImageSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type Room = z.infer<typeof RoomSchema>;
export type Reactions = z.infer<typeof ReactionsSchema>;
export type ReplyQuote = z.infer<typeof ReplyQuoteSchema>;
