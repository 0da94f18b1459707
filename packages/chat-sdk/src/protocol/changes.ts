import * as z from 'zod/mini';
import { CLIENT_KEY_PATTERN, MAX_PAGE_LIMIT, MAX_TEXT_CHARS, codePointLength } from './limits.js';
import { Id, MessageSchema, Seq } from './objects.js';
import { MAX_EMOJI_CODE_POINTS, isEmoji } from './emoji.js';

/**
 * Message changes (protocol 1.1, docs/protocol.md section 10.5): edits, deletes and
 * reactions, each applied once per `clientChangeId`, each bumping the room's change counter
 * (`rev`) so a client that was away asks for what changed since the rev it holds.
 * Spread into the action and event tables.
 */

/** Distinct emoji on one message; a new one past this is `TOO_LARGE`. */
export const MAX_REACTIONS_PER_MESSAGE = 50;
/** `get_changes` without `limit`. */
export const DEFAULT_CHANGES_LIMIT = 100;

const ChangeIdSchema = z.string().check(
  z.minLength(1, 'clientChangeId must not be empty'),
  z.maxLength(64, 'clientChangeId is longer than 64 characters'),
  z.regex(CLIENT_KEY_PATTERN, 'clientChangeId may hold only A-Z, a-z, 0-9, _ and -'),
);

/**
 * Which message: its server `id`, or its sender's `clientId` (the sender is the caller
 * unless `senderId` says otherwise), so a change can name a message still in its sender's
 * outbox when the change was made.
 */
const MessageRef = {
  roomId: Id,
  messageId: z.optional(Id),
  senderId: z.optional(Id),
  clientId: z.optional(Id),
  clientChangeId: ChangeIdSchema,
};
type Ref = { messageId?: string | undefined; clientId?: string | undefined };
const oneRef = z.refine<Ref>(
  (d) => (d.messageId === undefined) !== (d.clientId === undefined),
  'give exactly one of messageId and clientId',
);

export const EmojiSchema = z.string().check(
  z.refine(isEmoji, `emoji must be one emoji sequence of 1 to ${MAX_EMOJI_CODE_POINTS} code points`),
);

const EditTextSchema = z.string().check(
  z.refine((v: string) => codePointLength(v) <= MAX_TEXT_CHARS, {
    message: `text is longer than ${MAX_TEXT_CHARS} characters`,
    params: { code: 'TOO_LARGE' },
  }),
);

export const ChangeRequestSchemas = {
  /** The sender only; text rules as for `create_message` (blank only when the message has an image). */
  edit_message: z.object({ ...MessageRef, text: EditTextSchema }).check(oneRef),
  /** The sender only; the message becomes a tombstone. Deleting a tombstone changes nothing. */
  delete_message: z.object(MessageRef).check(oneRef),
  /** Members only; `on: false` takes the caller's reaction back. */
  react: z.object({ ...MessageRef, emoji: EmojiSchema, on: z.boolean() }).check(oneRef),
  /** Changed messages of a room with `rev > afterRev`, oldest change first. */
  get_changes: z.object({
    roomId: Id,
    afterRev: Seq,
    limit: z.optional(z.int().check(z.minimum(1), z.maximum(MAX_PAGE_LIMIT))),
  }),
} as const;

/** `message`: the message as it is after the change (or, for a repeat, as it is now). */
const ChangeReply = z.object({ message: MessageSchema, duplicate: z.boolean() });

export const ChangeReplySchemas = {
  edit_message: ChangeReply,
  delete_message: ChangeReply,
  react: ChangeReply,
  /** Each changed message once, as it is now, by `rev` ascending; `lastRev` is the room's counter. */
  get_changes: z.object({ messages: z.array(MessageSchema), hasMore: z.boolean(), lastRev: Seq }),
} as const;

export const ChangeEventSchemas = {
  /** An edit, delete or reaction: the whole message as it is now, to every 1.1 member connection. */
  message_updated: z.object({ message: MessageSchema }),
} as const;
