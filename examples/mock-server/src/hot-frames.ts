import {
  type ActionName,
  ChatError,
  type ClientFrame,
  MAX_CLIENT_ID_CHARS,
  MAX_ID_CHARS,
  MAX_REQUEST_ID_CHARS,
  MAX_TEXT_CHARS,
  type Parsed,
  type RequestData,
  isActionName,
  parseRequestData,
} from '@chat/sdk/protocol';

/**
 * The reading of client frames on the server's hot path, written by hand: every frame pays
 * one JSON.parse and these checks, never a schema library. `readFrame` is `readClientFrame`
 * of the protocol without zod; `parseRequest` checks the frequent actions (create_message,
 * typing, mark_read) by hand and hands anything it is not sure of, other actions and every
 * refusal to the zod schemas, so errors read the same. test/hot-frames.test.ts holds both
 * equal to the protocol's parsers on generated input.
 */

const CLIENT_ID = /^[A-Za-z0-9_-]+$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_CHARS;

/** The same answer as the protocol's `readClientFrame`, without a schema. */
export function readFrame(text: string): ClientFrame {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    frame = undefined;
  }
  if (!isObject(frame)) return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'a frame must be one JSON object') };
  const { requestId, action, data = {} } = frame;
  if (typeof requestId !== 'string' || requestId.length < 1 || requestId.length > MAX_REQUEST_ID_CHARS) {
    return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'the frame has no usable requestId (1 to 64 characters)') };
  }
  if (!isActionName(action)) {
    return { kind: 'invalid', requestId, error: new ChatError('BAD_REQUEST', `unknown action: ${String(action).slice(0, 64)}`) };
  }
  if (!isObject(data)) return { kind: 'invalid', requestId, error: new ChatError('BAD_REQUEST', 'data must be an object') };
  return { kind: 'request', requestId, action, data };
}

/** `create_message` as its schema reads it, for the shapes clients send (no image); else undefined. */
function createMessage(data: Record<string, unknown>): RequestData<'create_message'> | undefined {
  const { roomId, clientId, text, image, replyTo } = data;
  if (!isId(roomId) || typeof clientId !== 'string' || clientId.length > MAX_CLIENT_ID_CHARS || !CLIENT_ID.test(clientId)) return undefined;
  // Up to 4,000 UTF-16 units is surely up to 4,000 code points; longer is counted by the schema.
  if (typeof text !== 'string' || text.length > MAX_TEXT_CHARS || text.trim().length === 0) return undefined;
  if (image !== undefined) return undefined;
  const value: RequestData<'create_message'> = { roomId, clientId, text };
  if (replyTo !== undefined) {
    if (!isId(replyTo)) return undefined;
    value.replyTo = replyTo;
  }
  return value;
}

function typing(data: Record<string, unknown>): RequestData<'typing'> | undefined {
  const { roomId, stop } = data;
  if (!isId(roomId)) return undefined;
  if (stop === undefined) return { roomId };
  return typeof stop === 'boolean' ? { roomId, stop } : undefined;
}

function markRead(data: Record<string, unknown>): RequestData<'mark_read'> | undefined {
  const { roomId, seq } = data;
  return isId(roomId) && typeof seq === 'number' && Number.isSafeInteger(seq) && seq >= 0 ? { roomId, seq } : undefined;
}

const HOT: { [A in ActionName]?: (data: Record<string, unknown>) => RequestData<A> | undefined } = {
  create_message: createMessage,
  typing,
  mark_read: markRead,
};

/** The hand check alone: the value when `action` is a hot one and `data` plainly valid, else undefined. */
export function handChecked<A extends ActionName>(action: A, data: Record<string, unknown>): RequestData<A> | undefined {
  return HOT[action]?.(data) as RequestData<A> | undefined;
}

/** A frame's `data` checked once: by hand for the hot actions when it is plainly valid, else by the schema. */
export function parseRequest<A extends ActionName>(action: A, data: Record<string, unknown>): Parsed<RequestData<A>> {
  const value = handChecked(action, data);
  return value !== undefined ? { ok: true, value: value as RequestData<A> } : parseRequestData(action, data);
}
