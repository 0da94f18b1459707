/** The error table of protocol section 3, plus the codes only a client can observe. */
export const PROTOCOL_ERRORS = {
  BAD_REQUEST: { retryable: false },
  UNAUTHENTICATED: { retryable: false },
  FORBIDDEN: { retryable: false },
  NOT_FOUND: { retryable: false },
  CONFLICT: { retryable: false },
  TOO_LARGE: { retryable: false },
  RATE_LIMITED: { retryable: true },
  UNSUPPORTED_PROTOCOL: { retryable: false },
  INTERNAL: { retryable: true },
} as const;

export const CLIENT_ERRORS = {
  /** No reply within the request time-out. */
  TIMEOUT: { retryable: true },
  /** The connection was lost before a reply came. */
  NETWORK: { retryable: true },
  /** The client was closed. */
  CLOSED: { retryable: false },
} as const;

export type ProtocolErrorCode = keyof typeof PROTOCOL_ERRORS;
export type ClientErrorCode = keyof typeof CLIENT_ERRORS;
export type ErrorCode = ProtocolErrorCode | ClientErrorCode;

export const PROTOCOL_ERROR_CODES = Object.keys(PROTOCOL_ERRORS) as ProtocolErrorCode[];

export function isProtocolErrorCode(value: unknown): value is ProtocolErrorCode {
  return typeof value === 'string' && Object.hasOwn(PROTOCOL_ERRORS, value);
}

export function isRetryable(code: ErrorCode): boolean {
  return code in PROTOCOL_ERRORS
    ? PROTOCOL_ERRORS[code as ProtocolErrorCode].retryable
    : CLIENT_ERRORS[code as ClientErrorCode].retryable;
}

/**
 * An error as plain data, anywhere inside the SDK and in its stores (a connection's last
 * error, a failed message, across a link to a shared host): client-only codes survive.
 */
export interface ChatErrorData {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

/** The wire form of an error (protocol section 2): protocol codes only. */
export interface ErrorBody {
  code: ProtocolErrorCode;
  message: string;
  retryable: boolean;
  retryAfterMs?: number;
}

const CHAT_ERROR_BRAND = Symbol.for('@chat/sdk/ChatError');

/**
 * The one error class of the SDK and the server. `code` comes from the protocol's table
 * or the client-only codes; `retryable` follows the code unless the server said otherwise.
 */
export class ChatError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly retryAfterMs: number | undefined;
  readonly [CHAT_ERROR_BRAND] = true;

  constructor(
    code: ErrorCode,
    message: string,
    options: { retryable?: boolean; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ChatError';
    this.code = code;
    this.retryable = options.retryable ?? isRetryable(code);
    this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * `instanceof ChatError` holds for a ChatError made by another copy of this class too: the
   * published `@chat/sdk/protocol` entry is built apart from `@chat/sdk` (so its schemas stay
   * out of the SDK's chunks), and each carries its own copy.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    return isChatError(value);
  }

  /** Builds a ChatError from an error body received on the wire. */
  static fromBody(body: ErrorBody): ChatError {
    return new ChatError(body.code, body.message, {
      retryable: body.retryable,
      ...(body.retryAfterMs === undefined ? {} : { retryAfterMs: body.retryAfterMs }),
    });
  }

  /** As plain data for stores, events and links; the code is kept as it is. */
  toJSON(): ChatErrorData {
    const data: ChatErrorData = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) data.retryAfterMs = this.retryAfterMs;
    return data;
  }

  /** The wire form; client-only codes never go on the wire, so they become INTERNAL. */
  toBody(): ErrorBody {
    const code = isProtocolErrorCode(this.code) ? this.code : 'INTERNAL';
    const body: ErrorBody = { code, message: this.message, retryable: this.retryable };
    if (this.retryAfterMs !== undefined) body.retryAfterMs = this.retryAfterMs;
    return body;
  }
}

/** True for any ChatError, even one from another copy of this module (worker, second bundle). */
export function isChatError(value: unknown): value is ChatError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CHAT_ERROR_BRAND] === true;
}

function isErrorCode(value: unknown): value is ErrorCode {
  return isProtocolErrorCode(value) || (typeof value === 'string' && Object.hasOwn(CLIENT_ERRORS, value));
}

/**
 * Any failure as a ChatError: a ChatError as it is, an error body (from the wire or across
 * a port) rebuilt, anything else (a storage DOMException, a bug) as a retryable INTERNAL.
 */
export function toChatError(error: unknown): ChatError {
  if (isChatError(error)) return error;
  const body = error as Partial<ChatErrorData> | null;
  if (typeof body === 'object' && body !== null && isErrorCode(body.code) && typeof body.message === 'string') {
    return new ChatError(body.code, body.message, {
      ...(typeof body.retryable === 'boolean' ? { retryable: body.retryable } : {}),
      ...(typeof body.retryAfterMs === 'number' ? { retryAfterMs: body.retryAfterMs } : {}),
    });
  }
  return new ChatError('INTERNAL', typeof body?.message === 'string' ? body.message : String(error), { cause: error });
}
