/**
 * Small hand-written checks for what the server sends, so the code where the socket is (the
 * worker, or the host a tab loads later) carries no schema library: zod/mini costs about
 * 8 KB gzipped there, these well under 1 KB. Each check mirrors one zod/mini schema of
 * objects.ts, frames.ts, actions.ts, awareness.ts or changes.ts and returns what the schema
 * returns (objects keep only their known fields); server-frames.test.ts holds them to it.
 * A refusal throws `Refusal` with the path of the field; the frame reader makes it a ChatError.
 */
import { MAX_ID_CHARS, MAX_REQUEST_ID_CHARS, MAX_URL_CHARS, PROTOCOL_VERSIONS } from './limits.js';
import { PROTOCOL_ERROR_CODES } from './errors.js';

/** Returns the value as the schema outputs it, or throws a Refusal. `path` names the field. */
export type Check<T> = (value: unknown, path: string) => T;

export class Refusal extends Error {}

const refuse = (path: string, expected: string): never => {
  throw new Refusal(`${path}: expected ${expected}`);
};

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A string of `min` to `max` UTF-16 units (zod's minLength/maxLength count them so). */
export const string = (min = 0, max = Infinity): Check<string> => (value, path) =>
  typeof value === 'string' && value.length >= min && value.length <= max
    ? value
    : refuse(path, max < Infinity ? `a string of ${min} to ${max} characters` : 'a string');

/** A whole number of at least `min` (zod's `int()` is a safe integer). */
export const int = (min: number): Check<number> => (value, path) =>
  Number.isSafeInteger(value) && (value as number) >= min ? (value as number) : refuse(path, `a whole number from ${min}`);

export const boolean: Check<boolean> = (value, path) => (typeof value === 'boolean' ? value : refuse(path, 'a boolean'));

export const oneOf = <T>(values: readonly T[]): Check<T> => (value, path) =>
  values.includes(value as T) ? (value as T) : refuse(path, `one of ${values.join(', ')}`);

export const optional = <T>(check: Check<T>): Check<T | undefined> => (value, path) => (value === undefined ? undefined : check(value, path));

export const nullable = <T>(check: Check<T>): Check<T | null> => (value, path) => (value === null ? null : check(value, path));

export const array = <T>(check: Check<T>): Check<T[]> => (value, path) =>
  Array.isArray(value) ? value.map((item, i) => check(item, `${path}.${i}`)) : refuse(path, 'an array');

type Shape = Record<string, Check<unknown>>;
export type Output<S extends Shape> = { [K in keyof S]: ReturnType<S[K]> };

/** An object with these fields, unknown ones dropped (as zod's `object` does). */
export const object = <S extends Shape>(shape: S): Check<Output<S>> => (value, path) => {
  if (!isRecord(value)) return refuse(path, 'an object');
  const out: Record<string, unknown> = {};
  for (const key in shape) {
    const field = shape[key]!(value[key], path ? `${path}.${key}` : key);
    if (field !== undefined) out[key] = field;
  }
  return out as Output<S>;
};

/** The value itself when `ok` says so (zod's `custom`). */
const custom = <T>(ok: (value: unknown) => boolean, expected: string): Check<T> => (value, path) => (ok(value) ? (value as T) : refuse(path, expected));

// ---------------------------------------------------------------- the objects of objects.ts

export const id = string(1, MAX_ID_CHARS);
export const seq = int(0);
const timestamp = seq;

const user = object({ id, email: string(), name: string(), createdAt: timestamp });

const image = object({
  url: string(1, MAX_URL_CHARS),
  mime: string(),
  size: int(0),
  width: optional(int(1)),
  height: optional(int(1)),
});

const reactions = custom<Record<string, string[]>>(
  (value) => isRecord(value) && Object.values(value).every((ids) => Array.isArray(ids) && ids.every((id) => typeof id === 'string' && id.length <= MAX_ID_CHARS)),
  'emoji -> user ids',
);

export const message = object({
  id,
  roomId: id,
  senderId: id,
  clientId: id,
  seq: int(1),
  text: string(),
  image: nullable(image),
  createdAt: timestamp,
  rev: optional(seq),
  editedAt: optional(timestamp),
  deletedAt: optional(timestamp),
  reactions: optional(reactions),
  replyTo: optional(object({ id, senderId: id, text: string(), deleted: optional(boolean) })),
});

const readSeqs = custom<Record<string, number>>(
  (value) => isRecord(value) && Object.entries(value).every(([id, seq]) => id.length <= MAX_ID_CHARS && Number.isSafeInteger(seq) && (seq as number) >= 0),
  'user id -> seq',
);

export const room = object({
  id,
  name: nullable(string()),
  memberIds: array(id),
  createdBy: id,
  createdAt: timestamp,
  lastSeq: seq,
  lastMessage: nullable(message),
  readSeqs: optional(readSeqs),
  unreadCount: optional(seq),
  lastRev: optional(seq),
});

// ---------------------------------------------------------------- envelopes of frames.ts

export const requestId = string(1, MAX_REQUEST_ID_CHARS);

export const errorBody = object({
  code: oneOf(PROTOCOL_ERROR_CODES),
  message: string(),
  retryable: boolean,
  retryAfterMs: optional(custom<number>((value) => typeof value === 'number' && Number.isFinite(value) && value >= 0, 'a number from 0')),
});

export const protocolVersion = oneOf(PROTOCOL_VERSIONS);
export { user, timestamp };

/** A text frame as one JSON object, or undefined when it is not one. */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isRecord(value) ? value : undefined;
}
