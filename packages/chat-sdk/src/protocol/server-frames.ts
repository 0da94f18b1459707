/**
 * How a client reads what the server sends (protocol sections 2 and 10), with the checks of
 * checks.ts rather than the zod schemas: this is the code the worker and the host carry.
 * The schemas stay the contract (the server and the docs use them); server-frames.test.ts
 * holds these readers equal to them.
 */
import type { ActionName, ReplyData } from './actions.js';
import { ChatError, type ErrorBody, type ProtocolErrorCode } from './errors.js';
import type { EventData, EventName, ServerEvent } from './frames.js';
import {
  type Check,
  Refusal,
  array,
  boolean,
  errorBody,
  id,
  message,
  nullable,
  object,
  optional,
  parseJsonObject,
  protocolVersion,
  requestId,
  room,
  seq,
  string,
  timestamp,
  user,
} from './checks.js';

/** The result of every parse helper: a typed value or a typed error, never a throw. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ChatError };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T>(code: ProtocolErrorCode, message: string): Parsed<T> => ({ ok: false, error: new ChatError(code, message) });

/** Runs a check; a refusal is a BAD_REQUEST naming `what` and the field. */
function run<T>(check: Check<T>, value: unknown, what: string): Parsed<T> {
  try {
    return ok(check(value, ''));
  } catch (error) {
    if (error instanceof Refusal) return fail('BAD_REQUEST', `${what}: ${error.message}`);
    throw error;
  }
}

const presence = object({ userId: id, online: boolean, lastSeenAt: nullable(timestamp) });
const changed = object({ message, duplicate: boolean });
const messages = array(message);

/** Reply `data` of every action: `ReplySchemas` of actions.ts, awareness.ts and changes.ts. */
const replyChecks: { [A in ActionName]: Check<unknown> } = {
  create_user: object({ user }),
  create_connection: object({ user, token: string(), protocolVersion, serverTime: timestamp }),
  delete_connection: object({}),
  get_users: object({ users: array(user), nextCursor: nullable(string()) }),
  get_user_rooms: object({ rooms: array(room), nextCursor: optional(nullable(string())) }),
  create_room: object({ room, duplicate: optional(boolean) }),
  leave_room: object({ roomId: id, duplicate: boolean }),
  add_members: object({ room, addedIds: array(id), duplicate: boolean }),
  create_message: changed,
  get_messages: object({ messages, hasMore: boolean }),
  ping: object({ serverTime: timestamp }),
  mark_read: object({ roomId: id, seq, unreadCount: seq }),
  typing: object({ until: timestamp }),
  get_presence: object({ presence: array(presence) }),
  edit_message: changed,
  delete_message: changed,
  react: changed,
  get_changes: object({ messages, hasMore: boolean, lastRev: seq }),
};

/** Event `data` of protocol 1 and 1.1: `EventSchemas` of frames.ts. */
const eventChecks: { [E in EventName]: Check<unknown> } = {
  room_created: object({ room }),
  message_created: object({ message }),
  member_left: object({ roomId: id, userId: id }),
  members_added: object({ room, userIds: array(id), addedBy: id }),
  read: object({ roomId: id, userId: id, seq, unreadCount: optional(seq) }),
  typing: object({ roomId: id, userId: id, until: timestamp }),
  presence,
  message_updated: object({ message }),
};

const replyOk = object({ requestId, data: (value: unknown) => value });
const replyError = object({ requestId, error: errorBody });
const eventEnvelope = object({ event: string(), data: (value: unknown) => value });
const errorFrame = object({ error: errorBody });

export type ServerFrame =
  | { kind: 'reply'; requestId: string; ok: true; data: unknown }
  | { kind: 'reply'; requestId: string; ok: false; error: ErrorBody }
  | { kind: 'event'; event: ServerEvent }
  /** An event this version does not know: clients ignore it (protocol section 10). */
  | { kind: 'unknown-event'; event: string }
  | { kind: 'error'; error: ErrorBody };

/** How a client reads one frame from the server. A malformed frame is a BAD_REQUEST error value. */
export function parseServerFrame(text: string): Parsed<ServerFrame> {
  const frame = parseJsonObject(text);
  if (!frame) return fail('BAD_REQUEST', 'server frame is not a JSON object');
  switch (frame.type) {
    case 'reply': {
      if (frame.ok === true) {
        const reply = run(replyOk, frame, 'reply');
        return reply.ok ? ok({ kind: 'reply', requestId: reply.value.requestId, ok: true, data: reply.value.data }) : reply;
      }
      if (frame.ok !== false) return fail('BAD_REQUEST', 'reply: ok: expected true or false');
      const reply = run(replyError, frame, 'reply');
      return reply.ok ? ok({ kind: 'reply', requestId: reply.value.requestId, ok: false, error: reply.value.error as ErrorBody }) : reply;
    }
    case 'event': {
      const envelope = run(eventEnvelope, frame, 'event');
      if (!envelope.ok) return envelope;
      const name = envelope.value.event;
      if (!isEventName(name)) return ok({ kind: 'unknown-event', event: name });
      const data = parseEventData(name, envelope.value.data);
      return data.ok ? ok({ kind: 'event', event: { type: 'event', event: name, data: data.value } as ServerEvent }) : data;
    }
    case 'error': {
      const error = run(errorFrame, frame, 'error frame');
      return error.ok ? ok({ kind: 'error', error: error.value.error as ErrorBody }) : error;
    }
    default:
      return fail('BAD_REQUEST', `unknown server frame type: ${String(frame.type).slice(0, 32)}`);
  }
}

export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && Object.hasOwn(eventChecks, value);
}

/** Checks a successful reply's `data` against what the action promises. */
export function parseReplyData<A extends ActionName>(action: A, data: unknown): Parsed<ReplyData<A>> {
  return run(replyChecks[action], data ?? {}, `reply to ${action}`) as Parsed<ReplyData<A>>;
}

/** Checks an event's `data` against what the event promises. */
export function parseEventData<E extends EventName>(event: E, data: unknown): Parsed<EventData<E>> {
  return run(eventChecks[event], data, `event ${event}`) as Parsed<EventData<E>>;
}
