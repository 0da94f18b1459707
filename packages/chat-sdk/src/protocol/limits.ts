/** Every limit of protocol section 7 and 11, named once. "Characters" are Unicode code points. */

/** The version this SDK speaks: 1 plus the additions of docs/protocol.md section 10. */
export const PROTOCOL_VERSION = 1.1 as const;
/** Versions the reference server accepts in `create_connection`; the reply echoes the caller's. */
export const PROTOCOL_VERSIONS = [1, 1.1] as const;
export type ProtocolVersion = (typeof PROTOCOL_VERSIONS)[number];

export function isProtocolVersion(value: unknown): value is ProtocolVersion {
  return (PROTOCOL_VERSIONS as readonly unknown[]).includes(value);
}

/** A client-to-server frame of exactly this many bytes is accepted; one more closes with 1009. */
export const MAX_CLIENT_FRAME_BYTES = 64 * 1024;
export const MAX_TEXT_CHARS = 4000;
/** A reply's quote of its parent (10.5): at most this many code points of the parent's text. */
export const MAX_QUOTE_CHARS = 100;
export const MAX_ROOM_NAME_CHARS = 100;
/** Other members of a room (the creator comes on top). */
export const MAX_ROOM_MEMBERS = 99;
export const MAX_REQUEST_ID_CHARS = 64;
export const MAX_CLIENT_ID_CHARS = 64;
/** What a client-chosen key (`clientId`, `clientChangeId`) may hold: A-Z, a-z, 0-9, _ and -. */
export const CLIENT_KEY_PATTERN = /^[A-Za-z0-9_-]+$/;
export const MAX_ID_CHARS = 64;
export const MAX_EMAIL_CHARS = 254;
export const MAX_USER_NAME_CHARS = 80;
export const MAX_PAGE_LIMIT = 100;
export const DEFAULT_MESSAGES_LIMIT = 50;
export const DEFAULT_USERS_LIMIT = 50;
/**
 * `get_user_rooms` pages (1.1): at most 100 rooms a reply (a room's `lastMessage` can be
 * 16 KB, so a page stays under 2 MB); a request without `limit` (every version-1 client)
 * gets the first page of this many.
 */
export const DEFAULT_ROOMS_LIMIT = 100;
export const MAX_USER_IDS = 100;
/** Not in the contract's table: sane bounds so no field can be made arbitrarily long. */
export const MAX_QUERY_CHARS = 254;
export const MAX_CURSOR_CHARS = 256;
export const MAX_URL_CHARS = 2048;
export const MAX_TOKEN_CHARS = 4096;

/** Requests per connection: a token bucket refilled at 30/s holding at most 60. */
export const RATE_LIMIT_PER_SECOND = 30;
export const RATE_LIMIT_BURST = 60;

/** Unreadable frames on one connection: the 20th closes it with 1008. */
export const MAX_UNREADABLE_FRAMES = 20;

export const AUTH_TIMEOUT_MS = 10_000;
export const HEARTBEAT_INTERVAL_MS = 30_000;

export const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;
export const IMAGE_MIME_TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'] as const;
export type ImageMimeType = (typeof IMAGE_MIME_TYPES)[number];

export function isImageMimeType(value: unknown): value is ImageMimeType {
  return typeof value === 'string' && (IMAGE_MIME_TYPES as readonly string[]).includes(value);
}

/** Length in Unicode code points, the protocol's unit for "characters". */
export function codePointLength(value: string): number {
  let count = 0;
  for (const _ of value) count++;
  return count;
}
