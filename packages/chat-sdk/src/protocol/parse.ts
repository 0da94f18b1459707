import type * as z from 'zod/mini';
import { type ActionName, type RequestData, RequestSchemas, isActionName } from './actions.js';
import { ChatError, type ErrorBody, isProtocolErrorCode } from './errors.js';
import { type EventName, type EventSchemas } from './frames.js';
import { isRecord, parseJsonObject } from './checks.js';
import { MAX_REQUEST_ID_CHARS } from './limits.js';
import { type Parsed, fail, ok } from './server-frames.js';

// What a client reads from the server is checked by hand (server-frames.ts), to keep zod out of the worker.
export { type Parsed, type ServerFrame, isEventName, parseEventData, parseReplyData, parseServerFrame } from './server-frames.js';

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
  const { requestId, action, data = {} } = frame;
  // RequestIdSchema's rule, by hand: every frame the server reads passes here, so no schema.
  if (typeof requestId !== 'string' || requestId.length < 1 || requestId.length > MAX_REQUEST_ID_CHARS) {
    return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'the frame has no usable requestId (1 to 64 characters)') };
  }
  if (!isActionName(action)) {
    return { kind: 'invalid', requestId, error: new ChatError('BAD_REQUEST', `unknown action: ${String(action).slice(0, 64)}`) };
  }
  if (!isRecord(data)) return { kind: 'invalid', requestId, error: new ChatError('BAD_REQUEST', 'data must be an object') };
  return { kind: 'request', requestId, action, data };
}

/** Checks an action's `data`, trimming and lower-casing where the protocol says, dropping unknown fields. */
export function parseRequestData<A extends ActionName>(action: A, data: unknown): Parsed<RequestData<A>> {
  const result = RequestSchemas[action].safeParse(data ?? {});
  return result.success ? ok(result.data as RequestData<A>) : fromIssues(result.error.issues, action);
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
