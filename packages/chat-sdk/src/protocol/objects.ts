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

export const MessageSchema = z.object({
  id: Id,
  roomId: Id,
  senderId: Id,
  clientId: Id,
  seq: z.int().check(z.positive()),
  text: z.string(),
  image: z.nullable(ImageSchema),
  createdAt: Timestamp,
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
});

export type User = z.infer<typeof UserSchema>;
export type Image = z.infer<typeof ImageSchema>;
export type Message = z.infer<typeof MessageSchema>;
export type Room = z.infer<typeof RoomSchema>;
