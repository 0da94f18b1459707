import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ACTION_NAMES, ReplySchemas } from './actions.js';
import { ErrorFrameSchema, EventEnvelopeSchema, EventSchemas, ReplyErrorSchema, ReplyOkSchema, type EventName } from './frames.js';
import { parseEventData, parseReplyData, parseServerFrame } from './server-frames.js';

/**
 * The worker reads server frames with the hand-written checks of checks.ts; the zod schemas
 * stay the contract the server and the docs use. These properties hold the two equal: the
 * same frames accepted, the same value out (unknown fields dropped), the same error code.
 * A check looser than its schema would let a malformed frame into the stores; a stricter
 * one would drop a frame the server may send.
 */

// The zod def of a schema: enough to generate values that sit on both sides of every check.
interface Def {
  type: string;
  shape?: Record<string, { _zod: { def: Def } }>;
  innerType?: { _zod: { def: Def } };
  element?: { _zod: { def: Def } };
  values?: unknown[];
  entries?: Record<string, unknown>;
  checks?: { _zod: { def: { check: string; minimum?: number; maximum?: number } } }[];
}
type Schema = { _zod: { def: Def } };

const junk: fc.Arbitrary<unknown> = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.string({ maxLength: 3 }),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 2 }),
  fc.dictionary(fc.string({ maxLength: 2 }), fc.integer(), { maxKeys: 2 }),
);
const anId = fc.oneof(fc.string({ maxLength: 3 }), fc.constantFrom('x'.repeat(64), 'x'.repeat(65)));

/** Values mostly of the schema's shape, sometimes off by one at a bound, sometimes of another type. */
function near(schema: Schema): fc.Arbitrary<unknown> {
  const def = schema._zod.def;
  return fc.oneof({ arbitrary: shaped(def), weight: 100 }, { arbitrary: junk, weight: 1 });
}

function shaped(def: Def): fc.Arbitrary<unknown> {
  switch (def.type) {
    case 'string': {
      const bounds = (def.checks ?? []).flatMap(({ _zod: { def: c } }) => [c.minimum, c.maximum].filter((n) => n !== undefined));
      const lengths = [...new Set(bounds.flatMap((n) => [n - 1, n, n + 1]).filter((n) => n >= 0))];
      const edges = fc.constantFrom('', ...lengths.map((n) => 'x'.repeat(n)));
      return fc.oneof({ arbitrary: fc.string({ minLength: 1, maxLength: 4 }), weight: 30 }, { arbitrary: edges, weight: 1 });
    }
    case 'number': {
      const edges = fc.constantFrom(-1, -0, 0.5, 1.1, 2 ** 53, Number.MAX_SAFE_INTEGER, Infinity, Number.NaN);
      return fc.oneof({ arbitrary: fc.integer({ min: 0, max: 3 }), weight: 30 }, { arbitrary: edges, weight: 1 });
    }
    case 'boolean':
      return fc.boolean();
    case 'literal':
      return fc.constantFrom(...def.values!, 2, '1');
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries!), 'NOT_A_CODE');
    case 'object': {
      const fields = Object.fromEntries(Object.entries(def.shape!).map(([key, field]) => [key, near(field)]));
      return fc.record({ ...fields, extra: fc.option(fc.string({ maxLength: 2 }), { nil: undefined }) });
    }
    case 'array':
      return fc.array(near(def.element!), { maxLength: 3 });
    case 'optional':
      return fc.option(near(def.innerType!), { nil: undefined, freq: 3 });
    case 'nullable':
      return fc.option(near(def.innerType!), { nil: null, freq: 3 });
    case 'custom': // reactions (emoji -> ids) and read cursors (id -> seq)
      return fc.dictionary(anId, fc.oneof(fc.array(fc.oneof(anId, fc.integer()), { maxLength: 2 }), fc.integer({ min: -1, max: 3 }), fc.constant(1.5)), { maxKeys: 3 });
    case 'unknown':
      return junk;
    default:
      throw new Error(`no generator for zod type ${def.type}`);
  }
}

/** Each property must see both sides: a share of the values accepted, a share refused. */
function expectBothSides(outcomes: boolean[]) {
  const accepted = outcomes.filter(Boolean).length / outcomes.length;
  expect(accepted).toBeGreaterThan(0.02);
  expect(accepted).toBeLessThan(0.99);
}

const ours = (parsed: { ok: true; value: unknown } | { ok: false; error: { code: string } }) =>
  parsed.ok ? { ok: true, value: parsed.value } : { ok: false, code: parsed.error.code };
const theirs = (result: { success: true; data: unknown } | { success: false }) =>
  result.success ? { ok: true, value: result.data } : { ok: false, code: 'BAD_REQUEST' };

describe('server frames read by hand agree with the zod schemas', () => {
  it.each(ACTION_NAMES)('reply data of %s', (action) => {
    const schema = ReplySchemas[action];
    const outcomes: boolean[] = [];
    fc.assert(
      fc.property(fc.oneof({ arbitrary: near(schema as unknown as Schema), weight: 9 }, { arbitrary: junk, weight: 1 }), (data) => {
        const expected = theirs(schema.safeParse(data ?? {}));
        expect(ours(parseReplyData(action, data))).toEqual(expected);
        outcomes.push(expected.ok);
      }),
      { numRuns: 300 },
    );
    expectBothSides(outcomes);
  });

  it.each(Object.keys(EventSchemas) as EventName[])('event data of %s', (event) => {
    const schema = EventSchemas[event];
    const outcomes: boolean[] = [];
    fc.assert(
      fc.property(near(schema as unknown as Schema), (data) => {
        const expected = theirs(schema.safeParse(data));
        expect(ours(parseEventData(event, data))).toEqual(expected);
        outcomes.push(expected.ok);
      }),
      { numRuns: 300 },
    );
    expectBothSides(outcomes);
  });

  it('whole frames: replies, errors and events, known or not', () => {
    const outcomes: boolean[] = [];
    const envelope = (schema: unknown) => near(schema as Schema).filter((frame) => typeof frame === 'object' && frame !== null);
    const frames = fc.oneof(
      envelope(ReplyOkSchema),
      envelope(ReplyErrorSchema),
      envelope(ErrorFrameSchema),
      fc.record({ type: fc.constant('event'), event: fc.constantFrom(...Object.keys(EventSchemas), 'not_yet_an_event', 7), data: junk }),
      ...Object.entries(EventSchemas).map(([event, schema]) => fc.record({ type: fc.constant('event'), event: fc.constant(event), data: near(schema as unknown as Schema) })),
      junk,
    );
    fc.assert(
      fc.property(frames, (frame) => {
        const text = JSON.stringify(frame) ?? 'not json';
        const expected = bySchemas(text);
        expect(ours(parseServerFrame(text))).toEqual(expected);
        outcomes.push(expected.ok);
      }),
      { numRuns: 3000 },
    );
    expectBothSides(outcomes);
  });
});

/** What the frame reader did with the zod schemas (the code it replaces), as the reference. */
function bySchemas(text: string): { ok: true; value: unknown } | { ok: false; code: string } {
  let frame: unknown;
  try {
    frame = JSON.parse(text);
  } catch {
    return { ok: false, code: 'BAD_REQUEST' };
  }
  if (typeof frame !== 'object' || frame === null || Array.isArray(frame)) return { ok: false, code: 'BAD_REQUEST' };
  const f = frame as Record<string, unknown>;
  const fail = { ok: false as const, code: 'BAD_REQUEST' };
  if (f.type === 'reply' && f.ok === true) {
    const r = ReplyOkSchema.safeParse(f);
    return r.success ? { ok: true, value: { kind: 'reply', requestId: r.data.requestId, ok: true, data: r.data.data } } : fail;
  }
  if (f.type === 'reply') {
    const r = ReplyErrorSchema.safeParse(f);
    return r.success ? { ok: true, value: { kind: 'reply', requestId: r.data.requestId, ok: false, error: r.data.error } } : fail;
  }
  if (f.type === 'error') {
    const r = ErrorFrameSchema.safeParse(f);
    return r.success ? { ok: true, value: { kind: 'error', error: r.data.error } } : fail;
  }
  if (f.type !== 'event') return fail;
  const e = EventEnvelopeSchema.safeParse(f);
  if (!e.success) return fail;
  const name = e.data.event;
  if (!Object.hasOwn(EventSchemas, name)) return { ok: true, value: { kind: 'unknown-event', event: name } };
  const data = EventSchemas[name as EventName].safeParse(e.data.data);
  return data.success ? { ok: true, value: { kind: 'event', event: { type: 'event', event: name, data: data.data } } } : fail;
}
