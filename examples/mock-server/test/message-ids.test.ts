import { describe, expect, test } from 'vitest';
import { newMessageId } from '../src/message-ids.js';

/** Message ids (src/message-ids.ts): the creation time, then random bytes from a pool refilled every 256 ids. */
describe('message ids', () => {
  test('shaped m_ and 24 base64url characters, never repeated across refills of the pool, even in one millisecond', () => {
    const now = Date.now();
    const ids = Array.from({ length: 256 * 4 + 3 }, () => newMessageId(now));
    for (const id of ids) expect(id).toMatch(/^m_[A-Za-z0-9_-]{24}$/);
    expect(new Set(ids).size).toBe(ids.length);
    // 96 random bits after the time: no two share them.
    expect(new Set(ids.map((id) => id.slice(10))).size).toBe(ids.length);
  });

  test('sort as text in the order they were made (the id index then grows at its end)', () => {
    const times = [0, 1, 63, 64, 65, 4095, 4096, Date.now(), Date.now() + 1, 2 ** 47, 2 ** 48 - 1];
    for (let i = 0; i < 2000; i++) times.push(Math.floor(Math.random() * 2 ** 42));
    times.sort((a, b) => a - b);
    const ids = times.map((t) => newMessageId(t));
    for (let i = 1; i < ids.length; i++) {
      if (times[i] === times[i - 1]) continue;
      // SQLite's BINARY collation and JavaScript's < both compare these ASCII strings byte by byte.
      expect(ids[i - 1]! < ids[i]!, `${times[i - 1]} -> ${ids[i - 1]}, ${times[i]} -> ${ids[i]}`).toBe(true);
    }
  });
});
