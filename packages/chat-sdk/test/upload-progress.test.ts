// Image uploads with progress and cancel, against the real reference server (Node: a
// streamed fetch body, counted as the socket takes it).
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import type { ChatMessage } from '../src/contract/chat-message.js';
import { openStorage } from '../src/storage/open-storage.js';
import { throttledProgress } from '../src/host/uploads.js';
import { IDBFactory, client, email, eventually, server, someone, until } from './helpers.js';
import { slowLink } from './slow-link.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A PNG the server accepts (signature and IHDR), padded to `size` bytes. */
function png(size: number): Blob {
  const bytes = new Uint8Array(size);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 64, 0, 0, 0, 48, 8, 6, 0, 0, 0]);
  return new Blob([bytes], { type: 'image/png' });
}

async function setUp(options: Parameters<typeof client>[1] = {}) {
  const srv = await server();
  cleanups.push(() => srv.close());
  const idb = new IDBFactory();
  const alice = client(srv, { indexedDB: idb, ...options });
  cleanups.push(() => alice.close());
  const me = await alice.signUp({ email: email('alice') });
  const room = await alice.createRoom({ memberIds: [await someone(srv)] });
  await until(alice.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  const store = alice.messages(room.id);
  await until(store, (s) => !s.loading);
  return { srv, idb, alice, me, room, store };
}

/** Every `upload` value the message took in the store, in order (one per change). */
function watchUpload(alice: ChatClient, roomId: string, clientId: () => string | undefined) {
  const seen: Array<{ loaded: number; total: number }> = [];
  const store = alice.messages(roomId);
  let last: ChatMessage['upload'];
  const stop = store.subscribe(() => {
    const upload = store.getSnapshot().messages.find((m) => m.clientId === clientId())?.upload;
    if (upload && upload !== last) seen.push(upload);
    last = upload;
  });
  cleanups.push(stop);
  return seen;
}

/** What the server holds for the room, asked by a fresh client of the same user. */
async function serverMessages(srv: RunningServer, userEmail: string, roomId: string) {
  const reader = client(srv, { storage: 'memory' });
  try {
    await reader.login({ email: userEmail });
    const store = reader.messages(roomId);
    return (await until(store, (s) => !s.loading)).messages;
  } finally {
    await reader.close();
  }
}

describe('upload progress', () => {
  it('reports progress to the tab: monotonic, no tenth skipped, reaching the total, gone once sent', async () => {
    const { alice, room, store } = await setUp();
    let clientId: string | undefined;
    const seen = watchUpload(alice, room.id, () => clientId);
    const image = png(2 * 1024 * 1024);
    const started = Date.now();
    clientId = alice.send(room.id, { text: 'big picture', image }).clientId;
    const sent = await until(store, (s) => s.messages.some((m) => m.clientId === clientId && m.status === 'sent'), 15_000);
    const took = Date.now() - started;

    expect(sent.messages.find((m) => m.clientId === clientId)?.upload).toBeUndefined();
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect(seen.every((p) => p.total === image.size)).toBe(true);
    expect(seen[0]!.loaded).toBe(0);
    expect(seen.at(-1)!.loaded).toBe(image.size);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.loaded).toBeGreaterThan(seen[i - 1]!.loaded);
      // At least every 10 %: no tenth of the image passes unreported.
      const tenth = (p: { loaded: number }) => Math.floor((p.loaded * 10) / image.size);
      expect(tenth(seen[i]!) - tenth(seen[i - 1]!)).toBeLessThanOrEqual(1);
    }
    // Throttled: a tenth at a time or one per 250 ms, not one per chunk (32 chunks here).
    expect(seen.length).toBeLessThanOrEqual(12 + Math.ceil(took / 250));
  }, 20_000);

});

describe('cancelling an upload (discard)', () => {
  it('discard mid-upload aborts it: no message on the server, no outbox row, the upload cut off', async () => {
    const srvFirst = await server();
    cleanups.push(() => srvFirst.close());
    const link = await slowLink(srvFirst.port, 256 * 1024);
    cleanups.push(link.close);
    const idb = new IDBFactory();
    const userEmail = email('alice');
    const alice = client(srvFirst, { indexedDB: idb, uploadUrl: link.uploadUrl });
    cleanups.push(() => alice.close());
    const me = await alice.signUp({ email: userEmail });
    const room = await alice.createRoom({ memberIds: [await someone(srvFirst)] });
    const store = alice.messages(room.id);
    await until(store, (s) => !s.loading);

    const image = png(4 * 1024 * 1024);
    const message = alice.send(room.id, { text: 'never mind', image });
    await until(store, (s) => (s.messages.find((m) => m.clientId === message.clientId)?.upload?.loaded ?? 0) > 0, 10_000);
    await alice.discard(message.clientId);
    expect(store.getSnapshot().messages.some((m) => m.clientId === message.clientId)).toBe(false);
    // A text sent after it goes out (the room is not blocked by the cancelled upload).
    alice.send(room.id, { text: 'after' });
    await until(store, (s) => s.messages.some((m) => m.text === 'after' && m.status === 'sent'), 10_000);

    // The client hung up on the upload before its body passed the slow link.
    // (The link reads at its pace what the client wrote before hanging up, then sees it gone.)
    await eventually(() => expect(link.stats.clientClosed).toBe(true), 10_000);
    expect(link.stats.forwarded).toBeLessThan(image.size);
    // The server has only 'after'; nothing carries an image.
    const held = await serverMessages(srvFirst, userEmail, room.id);
    expect(held.map((m) => m.text)).toEqual(['after']);
    expect(held.every((m) => m.image === null)).toBe(true);
    // And the outbox row is gone.
    await alice.close();
    const storage = await openStorage({ indexedDB: idb });
    expect(await storage.outbox.listByUser(me.id)).toEqual([]);
    storage.close();
  }, 30_000);

  it('once the image is up and create_message may be on the wire, discard is refused (CONFLICT) and the message is sent', async () => {
    const { srv, alice, room, store } = await setUp();
    srv.faults.stall(800); // the server sits on create_message
    const message = alice.send(room.id, { text: 'too late', image: png(64 * 1024) });
    await until(store, (s) => s.messages.find((m) => m.clientId === message.clientId)?.upload?.loaded === 64 * 1024, 10_000);
    // Every byte left; the server's answer (and so create_message) follows within a moment.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await expect(alice.discard(message.clientId)).rejects.toMatchObject({ code: 'CONFLICT' });
    const sent = await until(store, (s) => s.messages.some((m) => m.clientId === message.clientId && m.status === 'sent'), 10_000);
    expect(sent.messages.find((m) => m.clientId === message.clientId)?.image?.mime).toBe('image/png');
  }, 20_000);

  it('a discard racing the end of the upload: either it is refused and the message is sent, or it went and the server never has it', async () => {
    const { srv, alice, room, store } = await setUp();
    const userEmail = alice.session.getSnapshot()!.user.email;
    const outcomes: Array<{ text: string; discarded: boolean }> = [];
    for (let i = 0; i < 12; i++) {
      const text = `race ${i}`;
      const message = alice.send(room.id, { text, image: png(256 * 1024) });
      await new Promise((resolve) => setTimeout(resolve, i * 2));
      const discarded = await alice.discard(message.clientId).then(
        () => true,
        (error: { code?: string }) => {
          expect(error.code).toBe('CONFLICT');
          return false;
        },
      );
      outcomes.push({ text, discarded });
      if (discarded) expect(store.getSnapshot().messages.some((m) => m.clientId === message.clientId)).toBe(false);
      else await until(store, (s) => s.messages.some((m) => m.clientId === message.clientId && m.status === 'sent'), 10_000);
    }
    const onServer = (await serverMessages(srv, userEmail, room.id)).map((m) => m.text);
    expect(onServer).toEqual(outcomes.filter((o) => !o.discarded).map((o) => o.text));
    // What the user sees is what the server has.
    expect(store.getSnapshot().messages.map((m) => m.text)).toEqual(onServer);
  }, 30_000);
});

describe('throttledProgress', () => {
  it('passes each new tenth, else one per 250 ms, always the end, never going back', () => {
    let now = 0;
    const out: number[] = [];
    const report = throttledProgress((loaded) => out.push(loaded), () => now);
    for (const [loaded, at] of [
      [0, 0], [10, 1], [50, 2], [99, 3], [100, 4], [150, 5], [120, 6], [199, 300], [250, 301], [260, 700], [1000, 701], [1000, 702],
    ] as const) {
      now = at;
      report(loaded, 1000);
    }
    expect(out).toEqual([0, 100, 199, 250, 260, 1000]);
  });
});
