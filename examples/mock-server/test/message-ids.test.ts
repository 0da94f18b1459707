import { describe, expect, test } from 'vitest';
import { newMessageId } from '../src/handlers/messages.js';

/** Message ids come from a pool of random bytes (handlers/messages.ts), refilled every 256 ids. */
describe('message ids', () => {
  test('shaped as newId makes them, and never repeated across refills of the pool', () => {
    const ids = Array.from({ length: 256 * 4 + 3 }, () => newMessageId());
    for (const id of ids) expect(id).toMatch(/^m_[A-Za-z0-9_-]{22}$/);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
