/**
 * Fuzzing with fast-check: random frames at a running server (over a real socket, signed in
 * or not), and random text at the SDK's frame parser. Each returns its counts; a broken
 * property throws fast-check's report (with the shrunk counterexample).
 */
import fc from 'fast-check';
import { ACTION_NAMES, PROTOCOL_ERROR_CODES, parseServerFrame, readClientFrame } from '@chat/sdk/protocol';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { Wire } from '../lib/wire.js';

const anyText = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ unit: 'binary' }));

const requestData = fc.oneof(
  fc.jsonValue(),
  fc.record(
    {
      email: fc.oneof(fc.emailAddress(), fc.string()),
      name: fc.string(),
      token: fc.string(),
      protocolVersion: fc.oneof(fc.constant(1), fc.integer(), fc.string()),
      roomId: fc.string(),
      clientId: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), fc.string()),
      text: fc.oneof(fc.string(), fc.string({ maxLength: 4100, minLength: 3990 })),
      memberIds: fc.array(fc.string(), { maxLength: 5 }),
      before: fc.oneof(fc.integer(), fc.double()),
      after: fc.oneof(fc.integer(), fc.double()),
      limit: fc.integer({ min: -5, max: 200 }),
      image: fc.oneof(fc.constant(null), fc.record({ url: fc.webUrl() }), fc.string()),
      query: fc.string(),
      ids: fc.array(fc.string(), { maxLength: 5 }),
      cursor: fc.string(),
    },
    { requiredKeys: [] },
  ),
);

/** Frames shaped like requests with random actions, ids and data, so most reach the handlers. */
const requestLike = fc
  .record(
    {
      action: fc.oneof({ arbitrary: fc.constantFrom(...ACTION_NAMES), weight: 4 }, fc.string()),
      requestId: fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 64 }), weight: 4 }, fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null)),
      data: requestData,
    },
    { requiredKeys: ['action', 'requestId'] },
  )
  .map((frame) => JSON.stringify(frame));

export interface ServerFuzzResult {
  cases: number;
  /** Frames the server read as requests (each must get exactly one reply). */
  requests: number;
  /** Replies with an error, by code. */
  errorCodes: Record<string, number>;
  /** Connections the server closed, by code (expected: 1000 after delete_connection, 1008 after 20 unreadable frames). */
  closes: Record<string, number>;
}

/**
 * Random frames, one at a time, each followed by a `ping` on the same connection (frames
 * are handled in order, so its reply means the frame was handled). Properties: a request
 * gets exactly one reply and never INTERNAL; an unreadable frame gets an error frame; the
 * server only closes a connection for a reason the protocol names; and it keeps answering.
 */
export async function fuzzServer(cases: number, seed?: number): Promise<ServerFuzzResult> {
  const server = await startServer({ ...TEST_SERVER_OPTIONS, rateLimit: { perSecond: 1_000_000, burst: 1_000_000 } });
  const result: ServerFuzzResult = { cases: 0, requests: 0, errorCodes: {}, closes: {} };
  let n = 0;
  let wire: Wire | undefined;
  let signedIn = false;
  const frames: any[] = [];
  const fresh = async (signIn: boolean) => {
    wire?.close();
    if (signIn) {
      const email = `fuzz${n++}@fuzz.test`;
      wire = (await Wire.user(server.wsUrl, email)).wire;
    } else {
      wire = await Wire.open(server.wsUrl);
    }
    signedIn = signIn;
    wire.onFrame = (frame) => frames.push(frame);
  };
  try {
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.oneof({ arbitrary: requestLike, weight: 3 }, anyText), async (signIn, raw) => {
        // Fresh connections now and then, so unreadable frames never add up to 20 by chance.
        if (!wire || !wire.isOpen || signIn !== signedIn || result.cases % 10 === 0) await fresh(signIn);
        const socket = wire as Wire;
        result.cases++;
        // Our own request ids are q<number>; a fuzzed one like that would be taken for ours.
        const text = raw.replace(/"requestId":"q(\d)/, '"requestId":"fuzz-q$1');
        // Classified as the server will see it: after the trip through UTF-8 (lone surrogates become U+FFFD).
        const frame = readClientFrame(Buffer.from(text, 'utf8').toString('utf8'));
        frames.length = 0;
        socket.sendRaw(text);
        let pong = false;
        try {
          await socket.request('ping', {}, 5000);
          pong = true;
        } catch {
          const closed = await Promise.race([socket.closed, new Promise<undefined>((r) => setTimeout(() => r(undefined), 5000))]);
          if (!closed) throw new Error(`no answer to ping after ${JSON.stringify(text).slice(0, 200)}`);
          result.closes[closed.code] = (result.closes[closed.code] ?? 0) + 1;
          if (![1000, 1008].includes(closed.code)) throw new Error(`closed with ${closed.code} after ${text.slice(0, 200)}`);
        }
        if (frame.kind === 'unreadable') {
          if (!frames.some((f) => f.type === 'error')) throw new Error(`no error frame for an unreadable frame: ${text.slice(0, 200)}`);
          return;
        }
        result.requests++;
        const replies = frames.filter((f) => f.type === 'reply' && f.requestId === frame.requestId);
        if (replies.length !== 1 && pong) throw new Error(`${replies.length} replies to ${text.slice(0, 200)}`);
        const code = replies[0]?.error?.code;
        if (code) result.errorCodes[code] = (result.errorCodes[code] ?? 0) + 1;
        if (code === 'INTERNAL') throw new Error(`INTERNAL for ${text.slice(0, 200)}`);
      }),
      { numRuns: cases, ...(seed !== undefined ? { seed } : {}) },
    );
    // Still serving after all of it.
    const after = await Wire.user(server.wsUrl, 'after-fuzz@fuzz.test');
    after.wire.close();
  } finally {
    wire?.close();
    await server.close();
  }
  return result;
}

/** Shapes a server frame could have, with random contents. */
const serverFrameLike = fc
  .oneof(
    fc.record({ type: fc.constant('reply'), requestId: fc.oneof(fc.string(), fc.integer()), ok: fc.oneof(fc.boolean(), fc.jsonValue()), data: fc.jsonValue() }, { requiredKeys: [] }),
    fc.record(
      {
        type: fc.constant('reply'),
        requestId: fc.string(),
        ok: fc.constant(false),
        error: fc.record({ code: fc.oneof(fc.constantFrom(...PROTOCOL_ERROR_CODES), fc.string()), message: fc.string(), retryable: fc.jsonValue(), retryAfterMs: fc.jsonValue() }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    ),
    fc.record(
      {
        type: fc.constant('event'),
        event: fc.oneof(fc.constantFrom('message_created', 'room_created', 'typing', 'presence'), fc.string()),
        data: fc.oneof(
          fc.jsonValue(),
          fc.record({
            message: fc.record(
              { id: fc.string(), roomId: fc.string(), senderId: fc.string(), clientId: fc.string(), seq: fc.jsonValue(), text: fc.jsonValue(), image: fc.jsonValue(), createdAt: fc.jsonValue() },
              { requiredKeys: [] },
            ),
            room: fc.jsonValue(),
          }, { requiredKeys: [] }),
        ),
      },
      { requiredKeys: [] },
    ),
    fc.record({ type: fc.constant('error'), error: fc.jsonValue() }, { requiredKeys: [] }),
  )
  .map((frame) => JSON.stringify(frame));

export interface ParserFuzzResult {
  cases: number;
  accepted: number;
  rejected: number;
}

/** parseServerFrame never throws, and rejects only with a protocol error code. */
export function fuzzParser(cases: number, seed?: number): ParserFuzzResult {
  const result: ParserFuzzResult = { cases: 0, accepted: 0, rejected: 0 };
  const codes = new Set<string>(PROTOCOL_ERROR_CODES);
  fc.assert(
    fc.property(fc.oneof(serverFrameLike, anyText), (text) => {
      result.cases++;
      const parsed = parseServerFrame(text);
      if (parsed.ok) result.accepted++;
      else {
        result.rejected++;
        if (!codes.has(parsed.error.code)) throw new Error(`code ${parsed.error.code} for ${text.slice(0, 200)}`);
      }
    }),
    { numRuns: cases, ...(seed !== undefined ? { seed } : {}) },
  );
  return result;
}
