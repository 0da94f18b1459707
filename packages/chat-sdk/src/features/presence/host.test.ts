import { describe, expect, it } from 'vitest';
import type { HostContext } from '../../contract/host-context.js';
import type { HostEvent } from '../../contract/host-api.js';
import { presenceKey } from '../../contract/presence.js';
import { HostPresence } from './host.js';

const me = { user: { id: 'me', email: 'me@x.io', name: 'Me', createdAt: 0 }, token: 't' };
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

function setup() {
  const asked: string[][] = [];
  const events: HostEvent[] = [];
  const host = {
    session: () => me,
    request: async (_action: string, data: { userIds: string[] }) => {
      asked.push(data.userIds);
      // The server leaves strangers out: here everyone but 'stranger' is a co-member.
      return { presence: data.userIds.filter((id) => id !== 'stranger').map((userId) => ({ userId, online: true, lastSeenAt: 5 })) };
    },
    emit: (event: HostEvent) => events.push(event),
  } as unknown as HostContext;
  return { presence: new HostPresence(host, () => true), asked, events };
}

describe('HostPresence', () => {
  it('merges watches: one get_presence for sets watched by several tabs, each set told its own value', async () => {
    const { presence, asked, events } = setup();
    const ab = presenceKey(['b', 'a', 'a']);
    presence.watch(ab);
    presence.watch(ab); // a second tab
    presence.watch(presenceKey(['b', 'stranger']));
    await tick();
    expect(asked).toEqual([['a', 'b', 'stranger']]);
    expect(events).toContainEqual({ type: 'presence', key: 'a b', presence: { a: { online: true, lastSeenAt: 5 }, b: { online: true, lastSeenAt: 5 } } });
    expect(events).toContainEqual({ type: 'presence', key: 'b stranger', presence: { b: { online: true, lastSeenAt: 5 } } });
  });

  it('passes on live changes of watched users only, once per real change; asks everyone again after a reconnect', async () => {
    const { presence, asked, events } = setup();
    presence.watch('a');
    await tick();
    events.length = 0;
    presence.received({ userId: 'a', online: true, lastSeenAt: 5 }); // what it knows already
    presence.received({ userId: 'z', online: true, lastSeenAt: 1 }); // nobody watches z
    expect(events).toEqual([]);
    presence.received({ userId: 'a', online: false, lastSeenAt: 9 });
    expect(events).toEqual([{ type: 'presence', key: 'a', presence: { a: { online: false, lastSeenAt: 9 } } }]);
    presence.refresh();
    await tick();
    expect(asked).toEqual([['a'], ['a']]);
    presence.unwatch('a');
    presence.received({ userId: 'a', online: true, lastSeenAt: 10 });
    expect(events).toHaveLength(2);
  });
});
