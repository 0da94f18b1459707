import { describe, expect, it } from 'vitest';
import { retryHintOf, withRetryHint } from './close-hint.js';

describe('close reason retry hints', () => {
  it('round-trip and keep the reason readable', () => {
    const reason = withRetryHint('server shutting down', 2000);
    expect(reason).toBe('server shutting down; retryAfterMs=2000');
    expect(retryHintOf(reason)).toBe(2000);
  });

  it('fit a close frame whatever the text', () => {
    const reason = withRetryHint('x'.repeat(500), 1234);
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(123);
    expect(retryHintOf(reason)).toBe(1234);
  });

  it.each([undefined, '', 'server shutting down', 'retryAfterMs=abc', 'say retryAfterMs=5 later', 'xretryAfterMs=5'])('find none in %j', (reason) => {
    expect(retryHintOf(reason)).toBeUndefined();
  });
});
