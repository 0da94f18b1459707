import { expect, it } from 'vitest';
import type { HostCommand } from '../../contract/host-api.js';
import { ClientPresence } from './client.js';

it('one store per set of ids; watched from its first subscriber to its last, again after a resync; equal values keep the snapshot', async () => {
  const calls: HostCommand[] = [];
  const presence = new ClientPresence(async (command) => {
    calls.push(command);
    return undefined as never;
  });
  const store = presence.store(['b', 'a', 'b']);
  expect(presence.store(['a', 'b'])).toBe(store);
  expect(calls).toEqual([]); // nothing until someone subscribes
  const off1 = store.subscribe(() => undefined);
  const off2 = store.subscribe(() => undefined);
  expect(calls).toEqual([{ type: 'watchPresence', key: 'a b' }]);

  let changes = 0;
  const off3 = store.subscribe(() => changes++);
  presence.hostEvents.presence({ type: 'presence', key: 'a b', presence: { a: { online: true, lastSeenAt: 1 } } });
  const first = store.getSnapshot();
  presence.hostEvents.presence({ type: 'presence', key: 'a b', presence: { a: { online: true, lastSeenAt: 1 } } });
  presence.hostEvents.presence({ type: 'presence', key: 'other', presence: { c: { online: true, lastSeenAt: 1 } } });
  expect(store.getSnapshot()).toBe(first);
  expect(changes).toBe(1);

  presence.resync(); // a new host (a new leader tab, a restarted worker) knows no watches
  expect(calls.at(-1)).toEqual({ type: 'watchPresence', key: 'a b' });
  off1();
  off2();
  off2();
  expect(calls).toHaveLength(2);
  off3();
  expect(calls.at(-1)).toEqual({ type: 'unwatchPresence', key: 'a b' });
  presence.resync(); // nobody subscribes: nothing to watch again
  expect(calls).toHaveLength(3);
});
