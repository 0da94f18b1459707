import type * as z from 'zod/mini';
import { type ActionName, type ReplyData, type RequestData, ReplySchemas, RequestSchemas, isActionName } from './actions.js';
import { ChatError, type ErrorBody, type ProtocolErrorCode, isProtocolErrorCode } from './errors.js';
import {
  type EventName,
  type ServerEvent,
  ErrorFrameSchema,
  EventEnvelopeSchema,
  EventSchemas,
  ReplyErrorSchema,
  ReplyOkSchema,
  RequestIdSchema,
  isEventName,
} from './frames.js';

/** The result of every parse helper: a typed value or a typed error, never a throw. */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: ChatError };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(code: ProtocolErrorCode, message: string): Parsed<T> => ({ ok: false, error: new ChatError(code, message) });

/** Turns zod issues into one ChatError: a coded check's code when all issues agree, else BAD_REQUEST. */
function fromIssues<T>(issues: readonly z.core.$ZodIssue[], what: string): Parsed<T> {
  const codes = issues.map((issue) => {
    const code = issue.code === 'custom' ? (issue.params as { code?: unknown } | undefined)?.code : undefined;
    return isProtocolErrorCode(code) ? code : 'BAD_REQUEST';
  });
  const code = codes.find((c) => c !== 'BAD_REQUEST') && codes.every((c) => c === codes[0]) ? codes[0]! : 'BAD_REQUEST';
  const detail = issues
    .slice(0, 3)
    .map((issue) => (issue.path.length ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
  return fail(code, `${what}: ${detail}`);
}

function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

// ---------------------------------------------------------------- client -> server

/**
 * How the server reads one text frame (protocol sections 2 and 11):
 * - `unreadable`: not JSON, not an object, or no usable `requestId`; answered with a
 *   `type: "error"` frame, and counted toward the 20 that close the connection;
 * - `invalid`: a usable `requestId` but an unknown action or a non-object `data`;
 *   answered with an ordinary BAD_REQUEST reply;
 * - `request`: an action to run; its `data` is checked with `parseRequestData`.
 */
export type ClientFrame =
  | { kind: 'request'; requestId: string; action: ActionName; data: Record<string, unknown> }
  | { kind: 'invalid'; requestId: string; error: ChatError }
  | { kind: 'unreadable'; error: ChatError };

export function readClientFrame(text: string): ClientFrame {
  const frame = parseJsonObject(text);
  if (!frame) return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'a frame must be one JSON object') };
  const requestId = RequestIdSchema.safeParse(frame.requestId);
  if (!requestId.success) {
    return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'the frame has no usable requestId (1 to 64 characters)') };
  }
  const { action, data = {} } = frame;
  if (!isActionName(action)) {
    return { kind: 'invalid', requestId: requestId.data, error: new ChatError('BAD_REQUEST', `unknown action: ${String(action).slice(0, 64)}`) };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { kind: 'invalid', requestId: requestId.data, error: new ChatError('BAD_REQUEST', 'data must be an object') };
  }
  return { kind: 'request', requestId: requestId.data, action, data: data as Record<string, unknown> };
}

/** Checks an action's `data`, trimming and lower-casing where the protocol says, dropping unknown fields. */
export function parseRequestData<A extends ActionName>(action: A, data: unknown): Parsed<RequestData<A>> {
  const result = RequestSchemas[action].safeParse(data ?? {});
  return result.success ? ok(result.data as RequestData<A>) : fromIssues(result.error.issues, action);
}

// ---------------------------------------------------------------- server -> client

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
        const reply = ReplyOkSchema.safeParse(frame);
        return reply.success
          ? ok({ kind: 'reply', requestId: reply.data.requestId, ok: true, data: reply.data.data })
          : fromIssues(reply.error.issues, 'reply');
      }
      const reply = ReplyErrorSchema.safeParse(frame);
      return reply.success
        ? ok({ kind: 'reply', requestId: reply.data.requestId, ok: false, error: reply.data.error as ErrorBody })
        : fromIssues(reply.error.issues, 'reply');
    }
    case 'event': {
      const envelope = EventEnvelopeSchema.safeParse(frame);
      if (!envelope.success) return fromIssues(envelope.error.issues, 'event');
      const name = envelope.data.event;
      if (!isEventName(name)) return ok({ kind: 'unknown-event', event: name });
      const data = EventSchemas[name].safeParse(envelope.data.data);
      if (!data.success) return fromIssues(data.error.issues, `event ${name}`);
      return ok({ kind: 'event', event: { type: 'event', event: name, data: data.data } as ServerEvent });
    }
    case 'error': {
      const error = ErrorFrameSchema.safeParse(frame);
      return error.success ? ok({ kind: 'error', error: error.data.error as ErrorBody }) : fromIssues(error.error.issues, 'error frame');
    }
    default:
      return fail('BAD_REQUEST', `unknown server frame type: ${String(frame.type).slice(0, 32)}`);
  }
}

/** Checks a successful reply's `data` against what the action promises. */
export function parseReplyData<A extends ActionName>(action: A, data: unknown): Parsed<ReplyData<A>> {
  const result = ReplySchemas[action].safeParse(data ?? {});
  return result.success ? ok(result.data as ReplyData<A>) : fromIssues(result.error.issues, `reply to ${action}`);
}

export function parseEventData<E extends EventName>(event: E, data: unknown): Parsed<z.output<(typeof EventSchemas)[E]>> {
  const result = EventSchemas[event].safeParse(data);
  return result.success ? ok(result.data as z.output<(typeof EventSchemas)[E]>) : fromIssues(result.error.issues, `event ${event}`);
}

// ---------------------------------------------------------------- builders

export interface RequestFrame<A extends ActionName = ActionName> {
  action: A;
  requestId: string;
  data?: RequestData<A> | Record<string, unknown>;
}

export const replyFrame = (requestId: string, data: unknown) => ({ type: 'reply' as const, requestId, ok: true as const, data });
export const replyErrorFrame = (requestId: string, error: ErrorBody) => ({ type: 'reply' as const, requestId, ok: false as const, error });
export const eventFrame = <E extends EventName>(event: E, data: z.output<(typeof EventSchemas)[E]>) => ({ type: 'event' as const, event, data });
export const errorFrame = (error: ErrorBody) => ({ type: 'error' as const, error });
