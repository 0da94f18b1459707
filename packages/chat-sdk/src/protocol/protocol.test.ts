import { describe, expect, it } from 'vitest';
import {
  ChatError,
  MAX_CLIENT_ID_CHARS,
  MAX_ROOM_MEMBERS,
  MAX_ROOM_NAME_CHARS,
  MAX_TEXT_CHARS,
  isChatError,
  normalizeMemberIds,
  toChatError,
  parseReplyData,
  parseRequestData,
  parseServerFrame,
  readClientFrame,
} from './index.js';

const codeOf = (result: { ok: boolean; error?: ChatError }) => (result.ok ? 'ok' : result.error?.code);
const msg = (extra: Record<string, unknown>) => parseRequestData('create_message', { roomId: 'r1', clientId: 'c1', ...extra });

describe('limits at their boundaries', () => {
  it('text: 4000 code points pass, 4001 are TOO_LARGE', () => {
    expect(codeOf(msg({ text: 'a'.repeat(MAX_TEXT_CHARS) }))).toBe('ok');
    expect(codeOf(msg({ text: 'a'.repeat(MAX_TEXT_CHARS + 1) }))).toBe('TOO_LARGE');
  });

  it('counts characters as code points, not UTF-16 units', () => {
    // 4000 emoji are 8000 UTF-16 units but 4000 characters.
    expect(codeOf(msg({ text: '😀'.repeat(MAX_TEXT_CHARS) }))).toBe('ok');
    expect(codeOf(msg({ text: '😀'.repeat(MAX_TEXT_CHARS + 1) }))).toBe('TOO_LARGE');
  });

  it('clientId: 64 characters pass, 65 are BAD_REQUEST, and only [A-Za-z0-9_-]', () => {
    expect(codeOf(msg({ clientId: 'x'.repeat(MAX_CLIENT_ID_CHARS), text: 'hi' }))).toBe('ok');
    expect(codeOf(msg({ clientId: 'x'.repeat(MAX_CLIENT_ID_CHARS + 1), text: 'hi' }))).toBe('BAD_REQUEST');
    expect(codeOf(msg({ clientId: 'a b', text: 'hi' }))).toBe('BAD_REQUEST');
    expect(codeOf(msg({ clientId: '', text: 'hi' }))).toBe('BAD_REQUEST');
  });

  it('room name: 100 characters pass, 101 are TOO_LARGE, blank becomes null', () => {
    const room = (name: unknown) => parseRequestData('create_room', { name, memberIds: ['u2'] });
    expect(codeOf(room('n'.repeat(MAX_ROOM_NAME_CHARS)))).toBe('ok');
    expect(codeOf(room('n'.repeat(MAX_ROOM_NAME_CHARS + 1)))).toBe('TOO_LARGE');
    const blank = room('   ');
    expect(blank.ok && blank.value.name).toBe(null);
  });

  it('members: 99 others pass, 100 are TOO_LARGE; duplicates and the caller do not count', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `u${i}`);
    expect(normalizeMemberIds(ids(MAX_ROOM_MEMBERS), 'me')).toHaveLength(99);
    expect(normalizeMemberIds([...ids(MAX_ROOM_MEMBERS), 'me', 'u1', 'u2'], 'me')).toHaveLength(99);
    expect(() => normalizeMemberIds(ids(MAX_ROOM_MEMBERS + 1), 'me')).toThrowError(expect.objectContaining({ code: 'TOO_LARGE' }));
    expect(() => normalizeMemberIds(['me', 'me'], 'me')).toThrowError(expect.objectContaining({ code: 'BAD_REQUEST' }));
  });

  it('requestId: 64 characters are a request, 65 make the frame unreadable', () => {
    const frame = (requestId: string) => readClientFrame(JSON.stringify({ action: 'ping', requestId }));
    expect(frame('r'.repeat(64)).kind).toBe('request');
    expect(frame('r'.repeat(65)).kind).toBe('unreadable');
    expect(frame('').kind).toBe('unreadable');
  });

  it('get_messages limit: 1 and 100 pass, 0 and 101 are BAD_REQUEST (not clamped)', () => {
    const page = (limit: number) => parseRequestData('get_messages', { roomId: 'r', limit });
    expect(codeOf(page(1))).toBe('ok');
    expect(codeOf(page(100))).toBe('ok');
    expect(codeOf(page(0))).toBe('BAD_REQUEST');
    expect(codeOf(page(101))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('get_messages', { roomId: 'r', before: 5, after: 2 }))).toBe('BAD_REQUEST');
  });

  it('email: trimmed and lower-cased; 254 characters pass, 255 are BAD_REQUEST', () => {
    const user = parseRequestData('create_user', { email: '  Ann@Example.COM ' });
    expect(user.ok && user.value.email).toBe('ann@example.com');
    const local = 'a'.repeat(64);
    const domain = (n: number) => `${'d'.repeat(n - local.length - 1 - 4)}.com`;
    expect(codeOf(parseRequestData('create_user', { email: `${local}@${domain(254)}` }))).toBe('ok');
    expect(codeOf(parseRequestData('create_user', { email: `${local}@${domain(255)}` }))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('create_user', { email: 'not-an-email' }))).toBe('BAD_REQUEST');
  });

  it('user name: 80 characters pass, 81 and blank are BAD_REQUEST', () => {
    const user = (name: string) => parseRequestData('create_user', { email: 'a@b.co', name });
    expect(codeOf(user('n'.repeat(80)))).toBe('ok');
    expect(codeOf(user('n'.repeat(81)))).toBe('BAD_REQUEST');
    expect(codeOf(user('  '))).toBe('BAD_REQUEST');
  });

  it('get_users ids: 1 to 100', () => {
    const ids = (n: number) => parseRequestData('get_users', { ids: Array.from({ length: n }, (_, i) => `u${i}`) });
    expect(codeOf(ids(1))).toBe('ok');
    expect(codeOf(ids(100))).toBe('ok');
    expect(codeOf(ids(0))).toBe('BAD_REQUEST');
    expect(codeOf(ids(101))).toBe('BAD_REQUEST');
  });
});

describe('requests', () => {
  it('a message needs non-blank text or an image', () => {
    expect(codeOf(msg({ text: '   ' }))).toBe('BAD_REQUEST');
    expect(codeOf(msg({}))).toBe('BAD_REQUEST');
    expect(codeOf(msg({ text: '', image: { url: 'http://h/uploads/x' } }))).toBe('ok');
  });

  it('drops unknown fields, including a forged sender', () => {
    const parsed = msg({ text: 'hi', senderId: 'someone-else', extra: 1 });
    expect(parsed.ok && parsed.value).toEqual({ roomId: 'r1', clientId: 'c1', text: 'hi' });
  });

  it('create_connection: missing version is BAD_REQUEST, another integer UNSUPPORTED_PROTOCOL', () => {
    expect(codeOf(parseRequestData('create_connection', { email: 'a@b.co' }))).toBe('BAD_REQUEST');
    expect(codeOf(parseRequestData('create_connection', { protocolVersion: 2, email: 'a@b.co' }))).toBe('UNSUPPORTED_PROTOCOL');
    expect(codeOf(parseRequestData('create_connection', { protocolVersion: 1, email: 'a@b.co' }))).toBe('ok');
    expect(codeOf(parseRequestData('create_connection', { protocolVersion: 1, token: 't' }))).toBe('ok');
    expect(codeOf(parseRequestData('create_connection', { protocolVersion: 1 }))).toBe('BAD_REQUEST');
  });

  it('classifies frames as the server must answer them', () => {
    expect(readClientFrame('not json').kind).toBe('unreadable');
    expect(readClientFrame('[1,2]').kind).toBe('unreadable');
    expect(readClientFrame('{"action":"ping"}').kind).toBe('unreadable');
    expect(readClientFrame('{"action":"nope","requestId":"1"}').kind).toBe('invalid');
    expect(readClientFrame('{"action":"ping","requestId":"1","data":[]}').kind).toBe('invalid');
    expect(readClientFrame('{"action":"ping","requestId":"1","data":null}').kind).toBe('invalid');
    const ok = readClientFrame('{"action":"ping","requestId":"1"}');
    expect(ok).toEqual({ kind: 'request', requestId: '1', action: 'ping', data: {} });
  });
});

describe('server frames', () => {
  const message = { id: 'm1', roomId: 'r1', senderId: 'u1', clientId: 'c1', seq: 1, text: 'hi', image: null, createdAt: 1 };

  it('reads replies, errors and known events', () => {
    const reply = parseServerFrame(JSON.stringify({ type: 'reply', requestId: 'r1', ok: true, data: { serverTime: 5 } }));
    expect(reply.ok && reply.value).toMatchObject({ kind: 'reply', ok: true });
    const failed = parseServerFrame(
      JSON.stringify({ type: 'reply', requestId: 'r1', ok: false, error: { code: 'RATE_LIMITED', message: 'slow', retryable: true, retryAfterMs: 40 } }),
    );
    expect(failed.ok && failed.value).toMatchObject({ kind: 'reply', ok: false, error: { code: 'RATE_LIMITED', retryAfterMs: 40 } });
    const event = parseServerFrame(JSON.stringify({ type: 'event', event: 'message_created', data: { message } }));
    expect(event.ok && event.value).toMatchObject({ kind: 'event', event: { event: 'message_created', data: { message } } });
  });

  it('ignores unknown events and reports malformed frames as BAD_REQUEST values', () => {
    // (typing is a known event since 1.1: an event of a later version stands in for unknown ones)
    const later = parseServerFrame(JSON.stringify({ type: 'event', event: 'reaction_added', data: { x: 1 } }));
    expect(later.ok && later.value.kind).toBe('unknown-event');
    for (const text of ['', 'null', '{"type":"reply"}', '{"type":"event","event":"message_created","data":{}}', '{"type":"weird"}']) {
      const parsed = parseServerFrame(text);
      expect(parsed.ok).toBe(false);
      expect(!parsed.ok && isChatError(parsed.error) && parsed.error.code).toBe('BAD_REQUEST');
    }
  });

  it('checks reply data against its action', () => {
    expect(parseReplyData('ping', { serverTime: 3 }).ok).toBe(true);
    expect(parseReplyData('create_message', { message, duplicate: 'no' }).ok).toBe(false);
  });
});

describe('ChatError', () => {
  it('carries retryable from the table and survives the wire form', () => {
    const error = new ChatError('RATE_LIMITED', 'slow down', { retryAfterMs: 100 });
    expect(error.retryable).toBe(true);
    expect(ChatError.fromBody(error.toBody())).toMatchObject({ code: 'RATE_LIMITED', retryable: true, retryAfterMs: 100 });
    expect(new ChatError('TIMEOUT', 't').retryable).toBe(true);
    expect(new ChatError('CLOSED', 'c').retryable).toBe(false);
    expect(new ChatError('NETWORK', 'n').toBody().code).toBe('INTERNAL');
    expect(isChatError(error)).toBe(true);
    expect(isChatError(new Error('x'))).toBe(false);
  });

  it('instanceof and isChatError hold across two copies of the class (the published protocol entry has its own)', async () => {
    // A query makes the test runner load the module a second time, as a second bundle would.
    const secondCopy = './errors.js?second-copy';
    const copy = (await import(/* @vite-ignore */ secondCopy)) as typeof import('./errors.js');
    expect(copy.ChatError).not.toBe(ChatError);
    const fromCopy = new copy.ChatError('FORBIDDEN', 'no');
    expect(fromCopy instanceof ChatError).toBe(true);
    expect(new ChatError('FORBIDDEN', 'no') instanceof copy.ChatError).toBe(true);
    expect(isChatError(fromCopy)).toBe(true);
    expect(new Error('x') instanceof ChatError).toBe(false);
    expect({ code: 'FORBIDDEN', message: 'no' } instanceof ChatError).toBe(false);
  });

  it('toChatError keeps ChatErrors, rebuilds error bodies, and makes anything else a retryable INTERNAL', () => {
    const error = new ChatError('FORBIDDEN', 'no');
    expect(toChatError(error)).toBe(error);
    expect(toChatError({ code: 'TIMEOUT', message: 'slow', retryable: true })).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(toChatError({ code: 'RATE_LIMITED', message: 'wait', retryable: true, retryAfterMs: 30 })).toMatchObject({ retryAfterMs: 30 });
    // A DOMException has a numeric `code`: it is no protocol error.
    const storage = toChatError({ code: 11, message: 'The transaction was aborted', name: 'AbortError' });
    expect(storage).toMatchObject({ code: 'INTERNAL', retryable: true, message: 'The transaction was aborted' });
    expect(toChatError('boom')).toMatchObject({ code: 'INTERNAL', message: 'boom' });
  });
});

describe('1.1 membership and paged room lists (docs/protocol.md 10.6)', () => {
  it('leave_room and add_members need an idempotency key; add_members 1 to 100 ids', () => {
    expect(parseRequestData('leave_room', { roomId: 'r1' }).ok).toBe(false);
    expect(parseRequestData('leave_room', { roomId: 'r1', clientId: 'k', block: true }).ok).toBe(true);
    expect(parseRequestData('add_members', { roomId: 'r1', clientId: 'k', userIds: [] }).ok).toBe(false);
    expect(parseRequestData('add_members', { roomId: 'r1', clientId: 'k', userIds: Array.from({ length: 101 }, (_, i) => `u${i}`) }).ok).toBe(false);
    expect(parseRequestData('add_members', { roomId: 'r1', clientId: 'bad key!', userIds: ['u1'] }).ok).toBe(false);
  });

  it('get_user_rooms takes a cursor and a limit of 1 to 100; a version-1 reply without nextCursor still reads', () => {
    expect(parseRequestData('get_user_rooms', {}).ok).toBe(true);
    expect(parseRequestData('get_user_rooms', { cursor: '42', limit: 25 }).ok).toBe(true);
    expect(parseRequestData('get_user_rooms', { limit: 0 }).ok).toBe(false);
    expect(parseRequestData('get_user_rooms', { limit: 101 }).ok).toBe(false);
    expect(parseReplyData('get_user_rooms', { rooms: [] })).toMatchObject({ ok: true, value: { rooms: [] } });
    expect(parseReplyData('get_user_rooms', { rooms: [], nextCursor: null }).ok).toBe(true);
  });

  it('create_room takes an optional clientId; its reply may say duplicate', () => {
    expect(parseRequestData('create_room', { memberIds: ['u2'], clientId: 'room-1' }).ok).toBe(true);
    expect(parseRequestData('create_room', { memberIds: ['u2'], clientId: '' }).ok).toBe(false);
  });
});
