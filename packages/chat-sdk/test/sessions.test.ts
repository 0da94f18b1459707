import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { type ChatClient, type SessionStatus, isChatError } from '../src/index.js';
import { IDBFactory, client, email, eventually, server, someone, until } from './helpers.js';

/**
 * Sessions as a person meets them: a reload resumes (and says so), several people can use
 * one browser (one IndexedDB), and switching person in a tab keeps everyone's session.
 */

let srv: RunningServer;
/** Someone to share rooms with (a room needs a member besides its creator). */
let friendId: string;
const clients: ChatClient[] = [];
beforeAll(async () => {
  srv = await server();
  friendId = await someone(srv);
});
afterAll(() => srv.close());
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A client on the browser's IndexedDB `idb`; a second one on the same `idb` is a reload or another tab. */
function tab(idb: IDBFactory): ChatClient {
  const c = client(srv, { indexedDB: idb });
  clients.push(c);
  return c;
}

function statuses(c: ChatClient): SessionStatus[] {
  const seen = [c.sessionStatus.getSnapshot()];
  c.sessionStatus.subscribe(() => seen.push(c.sessionStatus.getSnapshot()));
  return seen;
}

describe('resuming', () => {
  it('a first visit goes resuming → signed-out; a reload goes resuming → signed-in, never through signed-out', async () => {
    const idb = new IDBFactory();
    const first = tab(idb);
    const firstSeen = statuses(first);
    await first.ready;
    expect(firstSeen).toEqual(['resuming', 'signed-out']);
    await first.signUp({ email: email('ada') });
    expect(first.sessionStatus.getSnapshot()).toBe('signed-in');
    await first.close();

    const reload = tab(idb);
    const reloadSeen = statuses(reload);
    await reload.ready;
    expect(reloadSeen).toEqual(['resuming', 'signed-in']);
  });

  it('send() while resuming is queued and sent once the stored session is back', async () => {
    const idb = new IDBFactory();
    const first = tab(idb);
    const ada = await first.signUp({ email: email('ada') });
    const room = await first.createRoom({ memberIds: [ada.id, friendId] });
    await first.close();

    const reload = tab(idb);
    expect(reload.sessionStatus.getSnapshot()).toBe('resuming');
    const queued = reload.send(room.id, { text: 'sent before ready' });
    expect(queued.status).toBe('pending');
    const store = reload.messages(room.id);
    const sent = await until(store, (s) => s.messages.some((m) => m.clientId === queued.clientId && m.status === 'sent'), 10_000, 'sent');
    expect(sent.messages.filter((m) => m.clientId === queued.clientId)).toHaveLength(1);
    expect(sent.messages.find((m) => m.clientId === queued.clientId)?.senderId).toBe(ada.id);
  });

  it('send() while resuming with no stored session turns failed (UNAUTHENTICATED), and retry after a login sends it', async () => {
    const idb = new IDBFactory();
    const c = tab(idb);
    const failed: string[] = [];
    c.on('failed', (m) => failed.push(m.error?.code ?? ''));
    const early = c.send('some-room', { text: 'too early' });
    await c.ready;
    expect(failed).toEqual(['UNAUTHENTICATED']);
    // Signed out now: a send throws at once.
    expect(() => c.send('some-room', { text: 'x' })).toThrowError(expect.objectContaining({ code: 'UNAUTHENTICATED' }));
    const ada = await c.signUp({ email: email('ada') });
    const room = await c.createRoom({ memberIds: [ada.id, friendId] });
    // The early message names a room that did not exist; discard is the way out, and it is gone.
    await c.discard(early.clientId);
    const ok = c.send(room.id, { text: 'now' });
    await until(c.messages(room.id), (s) => s.messages.some((m) => m.clientId === ok.clientId && m.status === 'sent'));
  });
});

describe('several people in one browser', () => {
  it('a tab switches person; both sessions stay stored; a new tab resumes the most recent; logout signs out one', async () => {
    const idb = new IDBFactory();
    const adaEmail = email('ada');
    const bobEmail = email('bob');
    const setup = tab(new IDBFactory());
    await setup.signUp({ email: bobEmail });
    await setup.logout();

    const one = tab(idb);
    const ada = await one.signUp({ email: adaEmail });
    const adaRoom = await one.createRoom({ memberIds: [friendId], name: 'ada and a friend' });
    one.messages(adaRoom.id);
    const sessions: (string | null)[] = [];
    one.on('session', (s) => sessions.push(s?.user.email ?? null));

    const bob = await one.login({ email: bobEmail });
    expect(one.session.getSnapshot()?.user.id).toBe(bob.id);
    expect(sessions).toEqual([bobEmail]); // straight from Ada to Bob: never signed out in between
    expect(one.sessionStatus.getSnapshot()).toBe('signed-in');
    expect(one.rooms.getSnapshot().map((r) => r.id)).not.toContain(adaRoom.id);
    expect(one.messages(adaRoom.id).getSnapshot().messages).toEqual([]);

    // A new tab resumes Bob (most recent); switching it back to Ada works by email or stored session.
    const two = tab(idb);
    await two.ready;
    expect(two.session.getSnapshot()?.user.id).toBe(bob.id);
    await two.login({ email: adaEmail });
    expect(two.session.getSnapshot()?.user.id).toBe(ada.id);
    await eventually(() => expect(two.rooms.getSnapshot().map((r) => r.id)).toContain(adaRoom.id));

    // Ada logs out in tab two: tab one is still Bob, and the next tab resumes Bob.
    await two.logout();
    expect(one.session.getSnapshot()?.user.id).toBe(bob.id);
    const three = tab(idb);
    await three.ready;
    expect(three.session.getSnapshot()?.user.id).toBe(bob.id);
  });

  it('a failed switch leaves the tab signed in as before, connected again', async () => {
    const c = tab(new IDBFactory());
    const ada = await c.signUp({ email: email('ada') });
    const error = await c.login({ email: email('nobody') }).catch((e: unknown) => e);
    expect(isChatError(error) && error.code).toBe('NOT_FOUND');
    expect(c.session.getSnapshot()?.user.id).toBe(ada.id);
    await until(c.connection, (s) => s.status === 'open', 5_000, 'open as Ada again');
    const room = await c.createRoom({ memberIds: [friendId] });
    expect(room.memberIds).toContain(ada.id);
  });
});
