import { ChatError, type ProtocolErrorCode } from './errors.js';
import {
  CLIENT_KEY_PATTERN,
  MAX_CLIENT_ID_CHARS,
  MAX_CURSOR_CHARS,
  MAX_EMAIL_CHARS,
  MAX_ID_CHARS,
  MAX_PAGE_LIMIT,
  MAX_QUERY_CHARS,
  MAX_ROOM_NAME_CHARS,
  MAX_TOKEN_CHARS,
  MAX_USER_IDS,
  MAX_USER_NAME_CHARS,
  codePointLength,
} from './limits.js';

/**
 * The checks a page makes on a caller's input before it goes to the host, written by hand
 * so the first load carries no schema library (docs/architecture.md, "Size"). Each accepts
 * exactly what the request schemas of `actions.ts` accept and returns the same normalised
 * value (guards.test.ts holds them to it); the host and the server still check with the
 * schemas. A refusal is a ChatError naming the action and the field.
 */

/** The pattern zod's `email()` checks (zod/v4/core/regexes.ts), after trimming and lower-casing. */
const EMAIL = /^(?:[A-Za-z0-9_'+\-]+\.)*[A-Za-z0-9_'+\-]*[A-Za-z0-9_+-]@(?:[A-Za-z0-9][A-Za-z0-9\-]*\.)+[A-Za-z]{2,}$/;
/** What zod's `trim()` removes: String.prototype.trim. */
const trim = (value: string) => value.trim();

function refuse(action: string, field: string, message: string, code: ProtocolErrorCode = 'BAD_REQUEST'): never {
  throw new ChatError(code, `${action}: ${field}: ${message}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function checkEmail(action: string, value: unknown): string {
  if (typeof value !== 'string') refuse(action, 'email', 'expected a string');
  const email = trim(value).toLowerCase();
  if (codePointLength(email) > MAX_EMAIL_CHARS) refuse(action, 'email', `email is longer than ${MAX_EMAIL_CHARS} characters`);
  if (!EMAIL.test(email)) refuse(action, 'email', 'email is not a valid address');
  return email;
}

export function checkUserName(action: string, value: unknown): string {
  if (typeof value !== 'string') refuse(action, 'name', 'expected a string');
  const name = trim(value);
  if (name.length === 0) refuse(action, 'name', 'name must not be blank');
  if (codePointLength(name) > MAX_USER_NAME_CHARS) refuse(action, 'name', `name is longer than ${MAX_USER_NAME_CHARS} characters`);
  return name;
}

/** An opaque id: 1 to 64 characters (UTF-16 units, as the schema counts them). */
export function checkId(action: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_ID_CHARS) refuse(action, field, `expected an id of 1 to ${MAX_ID_CHARS} characters`);
  return value;
}

export function checkIds(action: string, field: string, value: unknown, { min = 1, max = MAX_USER_IDS } = {}): string[] {
  if (!Array.isArray(value)) refuse(action, field, 'expected an array of ids');
  if (value.length < min || value.length > max) refuse(action, field, `expected ${min} to ${max} ids`);
  value.forEach((id, i) => checkId(action, `${field}.${i}`, id));
  return [...(value as string[])];
}

export function checkClientId(action: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) refuse(action, field, `${field} must not be empty`);
  if (codePointLength(value) > MAX_CLIENT_ID_CHARS) refuse(action, field, `${field} is longer than ${MAX_CLIENT_ID_CHARS} characters`);
  if (!CLIENT_KEY_PATTERN.test(value)) refuse(action, field, `${field} may hold only A-Z, a-z, 0-9, _ and -`);
  return value;
}

/** A whole number from `min`, at most `max`. */
export function checkInt(action: string, field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    refuse(action, field, `expected a whole number from ${min}${max < Number.MAX_SAFE_INTEGER ? ` to ${max}` : ''}`);
  }
  return value;
}

function checkString(action: string, field: string, value: unknown, min: number, max: number): string {
  if (typeof value !== 'string' || value.length < min || value.length > max) refuse(action, field, `expected ${min} to ${max} characters`);
  return value;
}

/** A room name as `create_room` reads it: trimmed; blank or missing is null; over 100 characters is TOO_LARGE. */
export function checkRoomName(action: string, value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') refuse(action, 'name', 'expected a string or null');
  const name = trim(value);
  if (codePointLength(name) > MAX_ROOM_NAME_CHARS) refuse(action, 'name', `room name is longer than ${MAX_ROOM_NAME_CHARS} characters`, 'TOO_LARGE');
  return name || null;
}

/** `create_connection`'s credentials: exactly one of `email` and `token`. */
export function checkCredentials(value: unknown): { email: string } | { token: string } {
  const action = 'create_connection';
  if (!isObject(value)) refuse(action, 'credentials', 'expected { email } or { token }');
  const { email, token } = value;
  if ((email === undefined) === (token === undefined)) refuse(action, 'credentials', 'give exactly one of email and token');
  return email !== undefined ? { email: checkEmail(action, email) } : { token: checkString(action, 'token', token, 1, MAX_TOKEN_CHARS) };
}

export interface UsersQueryInput {
  ids?: string[];
  query?: string;
  limit?: number;
  cursor?: string;
}

/** `get_users`' data: known fields only, in one order, so equal questions compare equal. */
export function checkUsersQuery(value: unknown): UsersQueryInput {
  const action = 'get_users';
  if (value === undefined) return {};
  if (!isObject(value)) refuse(action, 'data', 'expected an object');
  const out: UsersQueryInput = {};
  if (value.ids !== undefined) out.ids = checkIds(action, 'ids', value.ids);
  if (value.query !== undefined) out.query = checkString(action, 'query', value.query, 0, MAX_QUERY_CHARS);
  if (value.limit !== undefined) out.limit = checkInt(action, 'limit', value.limit, 1, MAX_PAGE_LIMIT);
  if (value.cursor !== undefined) out.cursor = checkString(action, 'cursor', value.cursor, 1, MAX_CURSOR_CHARS);
  return out;
}
