import { describe, expect, it } from 'vitest';
import { retryHintOf, retryWindowOf, withRetryHint } from './close-hint.js';

describe('close reason retry hints', () => {
  it('round-trip and keep the reason readable', () => {
    const reason = withRetryHint('server shutting down', 2000);
    expect(reason).toBe('server shutting down; retryAfterMs=2000');
    expect(retryHintOf(reason)).toBe(2000);
    expect(retryWindowOf(reason)).toBeUndefined();
  });

  it('carry a spread window before the hint, which a client knowing only the hint still reads', () => {
    const reason = withRetryHint('server shutting down', 1000, 4000);
    expect(reason).toBe('server shutting down; retryWindowMs=4000; retryAfterMs=1000');
    expect(retryHintOf(reason)).toBe(1000);
    expect(retryWindowOf(reason)).toBe(4000);
    // What a 0.1 client's parser (the same expression as retryHintOf) sees: the hint, unchanged.
    expect(/(?:^|[\s;])retryAfterMs=(\d{1,7})$/.exec(reason)?.[1]).toBe('1000');
  });

  it('fit a close frame whatever the text', () => {
    const reason = withRetryHint('x'.repeat(500), 1234, 5678);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(retryHintOf(reason)).toBe(1234);
    expect(retryWindowOf(reason)).toBe(5678);
  });

  it.each([undefined, '', 'server shutting down', 'retryAfterMs=abc', 'say retryAfterMs=5 later', 'xretryAfterMs=5'])('find none in %j', (reason) => {
    expect(retryHintOf(reason)).toBeUndefined();
    expect(retryWindowOf(reason)).toBeUndefined();
  });

  it.each(['retryWindowMs=900', 'retryWindowMs=900; closing', 'retryAfterMs=5; retryWindowMs=900', 'xretryWindowMs=900; retryAfterMs=5'])('find no window out of place in %j', (reason) => {
    expect(retryWindowOf(reason)).toBeUndefined();
  });
});
