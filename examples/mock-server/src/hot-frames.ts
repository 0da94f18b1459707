import {
  type ActionName,
  CLIENT_KEY_PATTERN,
  MAX_CLIENT_ID_CHARS,
  MAX_ID_CHARS,
  MAX_TEXT_CHARS,
  type Parsed,
  type RequestData,
  parseRequestData,
} from '@chat/sdk/protocol';

/**
 * The checking of request data on the server's hot path, written by hand: a frame is read by
 * the protocol's `readClientFrame` (one JSON.parse, no schema), then `parseRequest` checks the
 * frequent actions (create_message, typing, mark_read) by hand and hands anything it is not
 * sure of, other actions and every refusal to the zod schemas, so errors read the same.
 * test/hot-frames.test.ts holds it equal to `parseRequestData` on generated input.
 */

const isId = (value: unknown): value is string => typeof value === 'string' && value.length >= 1 && value.length <= MAX_ID_CHARS;

/** `create_message` as its schema reads it, for the shapes clients send (no image); else undefined. */
function createMessage(data: Record<string, unknown>): RequestData<'create_message'> | undefined {
  const { roomId, clientId, text, image, replyTo } = data;
  if (!isId(roomId) || typeof clientId !== 'string' || clientId.length > MAX_CLIENT_ID_CHARS || !CLIENT_KEY_PATTERN.test(clientId)) return undefined;
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
