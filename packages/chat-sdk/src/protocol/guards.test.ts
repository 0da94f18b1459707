import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRequestData } from './parse.js';
import { checkCredentials, checkEmail, checkIds, checkRoomName, checkUserName, checkUsersQuery } from './guards.js';

/**
 * The page's hand-written guards must accept exactly what the request schemas accept (the
 * host and the server check with the schemas): a guard looser than the schema would let bad
 * input reach the outbox, a stricter one would refuse what the server takes.
 */
function outcome(run: () => unknown): { ok: true; value: unknown } | { ok: false; code: string } {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    return { ok: false, code: (error as { code: string }).code };
  }
}

function schema(action: Parameters<typeof parseRequestData>[0], data: unknown, pick: (value: Record<string, unknown>) => unknown) {
  const parsed = parseRequestData(action, data);
  return parsed.ok ? { ok: true as const, value: pick(parsed.value as Record<string, unknown>) } : { ok: false as const, code: parsed.error.code };
}

const emailish = fc.oneof(
  fc.emailAddress(),
  fc.emailAddress().map((e) => ` ${e.toUpperCase()} `),
  fc.string({ unit: fc.constantFrom('a', 'Z', '.', '@', '-', '_', '+', "'", ' ', '1', 'é', '\u200b'), maxLength: 30 }),
  fc.string({ maxLength: 300 }).map((s) => `${s}@example.com`),
);
const nameish = fc.oneof(fc.string({ maxLength: 90 }), fc.string({ unit: 'grapheme', maxLength: 90 }), fc.constantFrom('', '   ', '\t\n', 'x'.repeat(80), 'é'.repeat(81)));
const idish = fc.oneof(fc.string({ maxLength: 70 }), fc.integer(), fc.constant(null));
const anything = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.array(fc.string(), { maxLength: 3 }));

describe('page guards agree with the request schemas', () => {
  it('email and name (create_user)', () => {
    fc.assert(
      fc.property(emailish, fc.option(nameish, { nil: undefined }), (email, name) => {
        const data = name === undefined ? { email } : { email, name };
        const ours = outcome(() => ({ email: checkEmail('create_user', email), ...(name === undefined ? {} : { name: checkUserName('create_user', name) }) }));
        expect(ours).toEqual(schema('create_user', data, (v) => v));
      }),
      { numRuns: 2000 },
    );
  });

  it('credentials (create_connection)', () => {
    fc.assert(
      fc.property(fc.record({ email: fc.option(emailish, { nil: undefined }), token: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) }, { requiredKeys: [] }), (credentials) => {
        const ours = outcome(() => checkCredentials(credentials));
        const theirs = schema('create_connection', { protocolVersion: 1.1, ...credentials }, ({ email, token }) => (token !== undefined ? { token } : { email }));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 1000 },
    );
  });

  it('directory queries (get_users)', () => {
    fc.assert(
      fc.property(
        fc.record({ ids: fc.oneof(fc.array(idish, { maxLength: 102 }), anything), query: anything, limit: fc.oneof(fc.integer({ min: -2, max: 102 }), anything), cursor: anything }, { requiredKeys: [] }),
        (query) => {
          expect(outcome(() => checkUsersQuery(query))).toEqual(schema('get_users', query, (v) => v));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('room name and member ids (create_room)', () => {
    fc.assert(
      fc.property(fc.oneof(nameish.map((n) => n.repeat(2)), fc.constant(null), fc.constant(undefined), fc.string({ maxLength: 110 })), fc.oneof(fc.array(idish, { maxLength: 4 }), anything), (name, memberIds) => {
        const ours = outcome(() => ({ memberIds: checkIds('create_room', 'memberIds', memberIds, { min: 0, max: Infinity }), name: checkRoomName('create_room', name) }));
        const theirs = schema('create_room', name === undefined ? { memberIds } : { memberIds, name }, (v) => ({ memberIds: v.memberIds, name: v.name ?? null }));
        expect(ours).toEqual(theirs);
      }),
      { numRuns: 2000 },
    );
  });
});
