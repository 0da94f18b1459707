import { describe, expect, it } from 'vitest';
import { MAX_USER_IDS, parseReplyData, parseRequestData, parseServerFrame } from './index.js';

const codeOf = (result: { ok: boolean; error?: { code: string } }) => (result.ok ? 'ok' : result.error?.code);

describe('typing and presence on the wire (1.1)', () => {
  it('typing takes a roomId and an optional boolean stop; unknown fields are dropped', () => {
    expect(parseRequestData('typing', { roomId: 'r1', extra: 1 })).toEqual({ ok: true, value: { roomId: 'r1' } });
    expect(parseRequestData('typing', { roomId: 'r1', stop: true })).toEqual({ ok: true, value: { roomId: 'r1', stop: true } });
    expect(codeOf(parseRequestData('typing', {}))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('typing', { roomId: '' }))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('typing', { roomId: 'r1', stop: 1 }))).toBe('BAD_REQUEST');
  });

  it('get_presence takes 1 to 100 ids', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    expect(codeOf(parseRequestData('get_presence', { userIds: ids(1) }))).toBe('ok');
    expect(codeOf(parseRequestData('get_presence', { userIds: ids(MAX_USER_IDS) }))).toBe('ok');
    expect(codeOf(parseRequestData('get_presence', { userIds: [] }))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('get_presence', { userIds: ids(MAX_USER_IDS + 1) }))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('get_presence', { userIds: [''] }))).toBe('BAD_REQUEST');
  });

  it('replies and events are checked: lastSeenAt is a time or null, until a time (0: stopped)', () => {
    expect(codeOf(parseReplyData('get_presence', { presence: [{ userId: 'u1', online: false, lastSeenAt: null }] }))).toBe('ok');
    expect(codeOf(parseReplyData('get_presence', { presence: [{ userId: 'u1', online: 'yes', lastSeenAt: null }] }))).toBe('BAD_REQUEST');
    expect(codeOf(parseReplyData('typing', { until: 0 }))).toBe('ok');
    const typing = parseServerFrame(JSON.stringify({ type: 'event', event: 'typing', data: { roomId: 'r1', userId: 'u1', until: 5 } }));
    expect(typing).toMatchObject({ ok: true, value: { kind: 'event', event: { event: 'typing', data: { roomId: 'r1', userId: 'u1', until: 5 } } } });
    const presence = parseServerFrame(JSON.stringify({ type: 'event', event: 'presence', data: { userId: 'u1', online: true, lastSeenAt: 7 } }));
    expect(presence).toMatchObject({ ok: true, value: { kind: 'event', event: { event: 'presence' } } });
    expect(codeOf(parseServerFrame(JSON.stringify({ type: 'event', event: 'presence', data: { userId: 'u1' } })))).toBe('BAD_REQUEST');
  });
});
