import { describe, expect, it } from 'vitest';
import { MAX_EMOJI_CODE_POINTS, isEmoji } from './emoji.js';
import { parseRequestData } from './parse.js';

describe('isEmoji', () => {
  it.each(['👍', '❤️', '🇫🇷', '1️⃣', '👩🏽‍💻', '👨‍👩‍👧‍👦', '🏳️‍🌈', '🏴󠁧󠁢󠁳󠁣󠁴󠁿'])('takes %s', (emoji) => {
    expect(isEmoji(emoji)).toBe(true);
  });

  it.each(['', 'a', '1', ' 👍', '👍 ', '<b>', '\u200d', '\ufe0f', 'ok👍', '👍'.repeat(MAX_EMOJI_CODE_POINTS + 1)])('refuses %j', (value) => {
    expect(isEmoji(value)).toBe(false);
  });
});

describe('change requests', () => {
  it('name a message by exactly one of messageId and clientId', () => {
    const base = { roomId: 'r1', clientChangeId: 'c1' };
    expect(parseRequestData('delete_message', { ...base, messageId: 'm1' }).ok).toBe(true);
    expect(parseRequestData('delete_message', { ...base, clientId: 'x' }).ok).toBe(true);
    expect(parseRequestData('delete_message', base).ok).toBe(false);
    expect(parseRequestData('delete_message', { ...base, messageId: 'm1', clientId: 'x' }).ok).toBe(false);
  });

  it('refuse a reaction that is not one emoji', () => {
    const data = { roomId: 'r1', messageId: 'm1', clientChangeId: 'c1', on: true };
    expect(parseRequestData('react', { ...data, emoji: '🎉' }).ok).toBe(true);
    expect(parseRequestData('react', { ...data, emoji: 'lol' }).ok).toBe(false);
  });
});
