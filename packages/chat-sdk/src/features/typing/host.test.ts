import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { HostContext } from '../../contract/host-context.js';
import type { HostEvent } from '../../contract/host-api.js';
import { TYPING_REFRESH_MS, TYPING_TTL_MS } from '../../protocol/index.js';
import { HostTyping } from './host.js';

const me = { user: { id: 'me', email: 'me@x.io', name: 'Me', createdAt: 0 }, token: 't' };

function setup(open = true) {
  const requests: Array<{ action: string; data: Record<string, unknown> }> = [];
  const events: HostEvent[] = [];
  const host = {
    session: () => me,
    request: async (action: string, data: Record<string, unknown>) => {
      requests.push({ action, data });
      return { until: 0 };
    },
    emit: (event: HostEvent) => events.push(event),
  } as unknown as HostContext;
  const state = { open };
  const typing = new HostTyping(host, { now: () => Date.now(), isOpen: () => state.open, serverOffset: () => 1000 });
  return { typing, requests, events, state };
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(1_000_000);
});
afterEach(() => vi.useRealTimers());

describe('HostTyping', () => {
  it('one frame per refresh period whoever asks; none while offline; a stop only after a start; a sent message starts afresh', () => {
    const { typing, requests, state } = setup();
    for (let i = 0; i < 10; i++) {
      typing.start('r1');
      vi.advanceTimersByTime(100);
    }
    expect(requests).toEqual([{ action: 'typing', data: { roomId: 'r1' } }]);
    vi.advanceTimersByTime(TYPING_REFRESH_MS);
    typing.start('r1');
    expect(requests).toHaveLength(2);
    typing.stop('r1');
    typing.stop('r1');
    expect(requests.slice(2)).toEqual([{ action: 'typing', data: { roomId: 'r1', stop: true } }]);
    typing.start('r1');
    typing.sent('r1');
    typing.start('r1');
    expect(requests).toHaveLength(5);
    state.open = false;
    typing.sent('r2');
    typing.start('r2');
    expect(requests).toHaveLength(5);
  });

  it('tells the tabs who else types, once per change; expires them by its own timer; their message ends it at once', () => {
    const { typing, events } = setup();
    const until = Date.now() + 1000 + TYPING_TTL_MS; // server time, 1 s ahead of ours
    typing.received({ roomId: 'r1', userId: 'me', until }); // my other device: not shown
    expect(events).toEqual([]);
    typing.received({ roomId: 'r1', userId: 'ada', until });
    typing.received({ roomId: 'r1', userId: 'ada', until: until + 2000 }); // a refresh: same list
    expect(events).toEqual([{ type: 'typing', roomId: 'r1', userIds: ['ada'] }]);
    expect(typing.current()).toEqual([{ roomId: 'r1', userIds: ['ada'] }]);
    vi.advanceTimersByTime(TYPING_TTL_MS + 2000 - 1);
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(events.at(-1)).toEqual({ type: 'typing', roomId: 'r1', userIds: [] });

    typing.received({ roomId: 'r1', userId: 'bob', until: Date.now() + 1000 + TYPING_TTL_MS });
    typing.messageArrived({ id: 'm', roomId: 'r1', senderId: 'bob', clientId: 'c', seq: 1, text: 'x', image: null, createdAt: 0 });
    expect(events.slice(-2)).toEqual([
      { type: 'typing', roomId: 'r1', userIds: ['bob'] },
      { type: 'typing', roomId: 'r1', userIds: [] },
    ]);
    typing.received({ roomId: 'r2', userId: 'cat', until: Date.now() + 1000 + TYPING_TTL_MS });
    typing.received({ roomId: 'r2', userId: 'cat', until: 0 });
    typing.received({ roomId: 'r3', userId: 'dan', until: Date.now() + 1000 + TYPING_TTL_MS });
    typing.reset();
    expect(events.slice(-3)).toEqual([
      { type: 'typing', roomId: 'r2', userIds: [] },
      { type: 'typing', roomId: 'r3', userIds: ['dan'] },
      { type: 'typing', roomId: 'r3', userIds: [] },
    ]);
  });
});
