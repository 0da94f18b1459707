import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { ChatError, type ClientFrame, RequestIdSchema, isActionName, parseRequestData, readClientFrame } from '@chat/sdk/protocol';
import { handChecked, parseRequest } from '../src/hot-frames.js';

/**
 * The server's hand-written frame reading (the protocol's `readClientFrame`, and the hot
 * actions' checks in src/hot-frames.ts) must answer exactly what the zod schemas answer: the
 * same frame kinds, request ids, errors and normalised values, on generated input near the
 * edges of every rule.
 */

const idish = fc.oneof(fc.string({ minLength: 1, maxLength: 70 }), fc.constantFrom('', 'r'.repeat(64), 'r'.repeat(65)), fc.integer(), fc.constant(null));
const clientIdish = fc.oneof(
  fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '-'), minLength: 1, maxLength: 66 }),
  fc.string({ maxLength: 10 }),
  fc.constantFrom('', 'c'.repeat(64), 'c'.repeat(65), 'with space', 'é'),
  fc.integer(),
);
const textish = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', '   ', '\u00a0\t', 'x'.repeat(4000), 'x'.repeat(4001), '😀'.repeat(2000), '😀'.repeat(4001)),
  fc.integer(),
  fc.constant(null),
);
const optional = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });
const extra = fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 });

/** Drops `undefined` fields, as JSON on the wire would. */
const wire = (data: Record<string, unknown>) => JSON.parse(JSON.stringify(data)) as Record<string, unknown>;

const dataOf = {
  create_message: fc
    .record({
      roomId: idish,
      clientId: clientIdish,
      text: optional(textish),
      image: optional(fc.oneof(fc.constant(null), fc.record({ url: fc.string({ maxLength: 10 }) }))),
      replyTo: optional(idish),
    })
    .chain((d) => extra.map((e) => wire({ ...e, ...d }))),
  typing: fc.record({ roomId: idish, stop: optional(fc.oneof(fc.boolean(), fc.integer(), fc.constant(null))) }).chain((d) => extra.map((e) => wire({ ...e, ...d }))),
  mark_read: fc
    .record({ roomId: idish, seq: fc.oneof(fc.nat(), fc.integer(), fc.double(), fc.constant(2 ** 53), fc.string({ maxLength: 3 })) })
    .chain((d) => extra.map((e) => wire({ ...e, ...d }))),
};

describe('hot actions checked by hand', () => {
  for (const action of ['create_message', 'typing', 'mark_read'] as const) {
    test(`${action}: the same answer and value as the schema`, () => {
      fc.assert(
        fc.property(dataOf[action], (data) => {
          const schema = parseRequestData(action, data);
          // What the hand check takes, the schema takes, with the same value.
          const hand = handChecked(action, data);
          if (hand !== undefined) expect(schema).toEqual({ ok: true, value: hand });
          expect(parseRequest(action, data)).toEqual(schema);
        }),
        { numRuns: 1000 },
      );
    }, 30_000);
  }

  test('the frames clients send most are taken by the hand check, without the schema', () => {
    const sent = { roomId: 'r_1', clientId: 'c-123_abc', text: 'hello', ignored: true };
    expect(handChecked('create_message', sent)).toEqual({ roomId: 'r_1', clientId: 'c-123_abc', text: 'hello' });
    expect(handChecked('create_message', { ...sent, replyTo: 'm1' })).toEqual({ roomId: 'r_1', clientId: 'c-123_abc', text: 'hello', replyTo: 'm1' });
    expect(handChecked('typing', { roomId: 'r_1', stop: true })).toEqual({ roomId: 'r_1', stop: true });
    expect(handChecked('mark_read', { roomId: 'r_1', seq: 42 })).toEqual({ roomId: 'r_1', seq: 42 });
    expect(handChecked('get_messages', { roomId: 'r_1' })).toBeUndefined(); // not a hot action: the schema's
  });
});

describe('frames read by hand', () => {
  const frameish = fc.oneof(
    fc.record({
      requestId: optional(fc.oneof(fc.string({ maxLength: 66 }), fc.constantFrom('', 'q'.repeat(64), 'q'.repeat(65)), fc.integer())),
      action: optional(fc.oneof(fc.constantFrom('create_message', 'typing', 'ping', 'toString', '__proto__', 'nope'), fc.integer())),
      data: optional(fc.oneof(fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 2 }), fc.jsonValue({ maxDepth: 1 }))),
    }).map((f) => JSON.stringify(f)),
    fc.json({ maxDepth: 2 }),
    fc.string({ maxLength: 30 }),
  );

  /** The frame reading of protocol section 2 with the requestId checked by its schema. */
  function schemaReading(text: string): ClientFrame {
    let frame: unknown;
    try {
      frame = JSON.parse(text);
    } catch {
      frame = undefined;
    }
    const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
    if (!isObject(frame)) return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'a frame must be one JSON object') };
    const requestId = RequestIdSchema.safeParse(frame.requestId);
    if (!requestId.success) return { kind: 'unreadable', error: new ChatError('BAD_REQUEST', 'the frame has no usable requestId (1 to 64 characters)') };
    const { action, data = {} } = frame;
    if (!isActionName(action)) return { kind: 'invalid', requestId: requestId.data, error: new ChatError('BAD_REQUEST', `unknown action: ${String(action).slice(0, 64)}`) };
    if (!isObject(data)) return { kind: 'invalid', requestId: requestId.data, error: new ChatError('BAD_REQUEST', 'data must be an object') };
    return { kind: 'request', requestId: requestId.data, action, data };
  }

  test('readClientFrame: the same kind, requestId, action, data and error as with the requestId schema', () => {
    fc.assert(
      fc.property(frameish, (text) => {
        expect(readClientFrame(text)).toEqual(schemaReading(text));
      }),
      { numRuns: 1000 },
    );
  }, 30_000);
});
