import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ACTION_NAMES, PROTOCOL_ERROR_CODES, isChatError, parseRequestData, readClientFrame } from '@chat/sdk/protocol';
import type { RunningServer } from '../src/index.js';
import { readImageInfo } from '../src/image-info.js';
import { verifyJwt } from '../src/jwt.js';
import { TestClient, serverFixture, signUp, type SignedIn } from './helpers.js';

const anyJson = fc.oneof(fc.string(), fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)));

/** Frames shaped like requests, with random actions and data, so they reach the handlers. */
const requestLike = fc.record(
  {
    action: fc.oneof(fc.constantFrom(...ACTION_NAMES), fc.string()),
    requestId: fc.oneof(fc.string({ minLength: 1, maxLength: 70 }), fc.integer(), fc.constant(null)),
    data: fc.oneof(
      fc.jsonValue(),
      fc.record({
        email: fc.oneof(fc.emailAddress(), fc.string()),
        token: fc.string(),
        protocolVersion: fc.oneof(fc.constant(1), fc.integer()),
        roomId: fc.string(),
        clientId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
        text: fc.string(),
        memberIds: fc.array(fc.string(), { maxLength: 5 }),
        before: fc.integer(),
        after: fc.integer(),
        limit: fc.integer(),
        image: fc.oneof(fc.constant(null), fc.record({ url: fc.webUrl() })),
        query: fc.string(),
        ids: fc.array(fc.string(), { maxLength: 5 }),
        cursor: fc.string(),
      }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: ['action', 'requestId'] },
).map((frame) => JSON.stringify(frame));

describe('pure readers never throw', () => {
  test('readClientFrame classifies anything', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, requestLike), (text) => {
        const frame = readClientFrame(text);
        expect(['request', 'invalid', 'unreadable']).toContain(frame.kind);
      }),
      { numRuns: 2000 },
    );
  });

  test('parseRequestData gives a value or a ChatError with a protocol code', () => {
    fc.assert(
      fc.property(fc.constantFrom(...ACTION_NAMES), fc.anything(), (action, data) => {
        const parsed = parseRequestData(action, data);
        if (!parsed.ok) {
          expect(isChatError(parsed.error)).toBe(true);
          expect(PROTOCOL_ERROR_CODES).toContain(parsed.error.code);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('readImageInfo and verifyJwt take any bytes and strings', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => void readImageInfo(bytes)), { numRuns: 2000 });
    const riffish = fc.uint8Array({ maxLength: 40 }).map((tail) => new Uint8Array([...Buffer.from('RIFF\0\0\0\0WEBPVP8'), ...tail]));
    fc.assert(fc.property(riffish, (bytes) => void readImageInfo(bytes)), { numRuns: 500 });
    const jpegish = fc.uint8Array({ maxLength: 40 }).map((tail) => new Uint8Array([0xff, 0xd8, 0xff, ...tail]));
    fc.assert(fc.property(jpegish, (bytes) => void readImageInfo(bytes)), { numRuns: 500 });
    fc.assert(fc.property(fc.string(), (token) => {
      expect(verifyJwt(token, 'secret').ok).toBe(false);
    }), { numRuns: 1000 });
  });
});

describe('a running server under garbage', () => {
  const fx = serverFixture();
  let server: RunningServer;
  let observer: SignedIn;
  beforeAll(async () => {
    server = await fx.start({ logLevel: 'error', rateLimit: { perSecond: 100_000, burst: 100_000 } });
    observer = fx.track(await signUp(server));
  });
  afterAll(() => fx.cleanup());

  /** A fuzzing connection, reopened whenever the server closed it (20 unreadable frames, 1009, ...). */
  let fuzzer: TestClient | undefined;
  const fuzzers: TestClient[] = [];
  async function openFuzzer(signedIn: boolean): Promise<TestClient> {
    if (fuzzer && fuzzer.ws.readyState === fuzzer.ws.OPEN) return fuzzer;
    fuzzer = signedIn ? fx.track(await signUp(server)).client : fx.track(await TestClient.open(server.wsUrl));
    fuzzers.push(fuzzer);
    return fuzzer;
  }

  test('random strings, JSON, request-shaped frames and binary garbage: no crash, others still answered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.array(fc.oneof(anyJson, requestLike, fc.uint8Array({ maxLength: 300 })), { minLength: 1, maxLength: 30 }),
        async (signedIn, frames) => {
          const c = await openFuzzer(signedIn);
          for (const frame of frames) {
            if (c.ws.readyState !== c.ws.OPEN) break;
            if (typeof frame === 'string') c.sendRaw(frame);
            else c.sendRaw(Buffer.from(frame), true);
          }
          expect((await observer.client.call('ping')).serverTime).toBeGreaterThan(0);
        },
      ),
      { numRuns: 200 },
    );
    // The fuzzed connection, if still open, answers too.
    const c = await openFuzzer(true);
    expect((await c.request('ping')).type).toBe('reply');
    // INTERNAL would mean a handler threw something other than a ChatError.
    const internal = fuzzers.flatMap((f) => f.frames).filter((f) => f.type !== 'event' && f.error?.code === 'INTERNAL');
    expect(internal).toEqual([]);
  });
});
