import { afterEach, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { RunningServer } from '@chat/mock-server';
import type { ChatClient } from '../src/index.js';
import { client, email, server, until } from './helpers.js';

/**
 * The real server never loses an event, so this socket does: a `ws` WebSocket that drops
 * the first `message_created` frame for seq 2, as a flaky proxy might.
 */
class LossyWebSocket extends WebSocket {
  static dropped = 0;
  constructor(url: string) {
    super(url);
    const attribute = Object.getOwnPropertyDescriptor(WebSocket.prototype, 'onmessage')!;
    Object.defineProperty(this, 'onmessage', {
      get: () => attribute.get!.call(this),
      set: (listener: ((event: WebSocket.MessageEvent) => void) | null) => {
        const lossy = (event: WebSocket.MessageEvent) => {
          const text = String(event.data);
          if (LossyWebSocket.dropped === 0 && text.includes('"message_created"') && /"seq":2[,}]/.test(text)) {
            LossyWebSocket.dropped++;
            return;
          }
          listener?.(event);
        };
        attribute.set!.call(this, listener ? lossy : null);
      },
    });
  }
}

let srv: RunningServer;
const clients: ChatClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await srv.close();
});

it('a seq gap left by a lost event is filled from history', async () => {
  srv = await server();
  const alice = client(srv);
  const bob = client(srv, { WebSocket: LossyWebSocket as never });
  clients.push(alice, bob);
  const b = await bob.signUp({ email: email('bob') });
  await alice.signUp({ email: email('alice') });
  const room = await alice.createRoom({ memberIds: [b.id] });
  await until(bob.rooms, (rooms) => rooms.some((r) => r.id === room.id));
  const bobStore = bob.messages(room.id);
  await until(bobStore, (s) => !s.loading);

  alice.send(room.id, { text: 'one' });
  await until(bobStore, (s) => s.messages.length === 1);
  alice.send(room.id, { text: 'two' }); // Bob's copy of this event is lost
  alice.send(room.id, { text: 'three' }); // seq 3 after seq 1 shows Bob the gap
  const filled = await until(bobStore, (s) => s.messages.length === 3);
  expect(LossyWebSocket.dropped).toBe(1);
  expect(filled.messages.map((m) => [m.seq, m.text])).toEqual([
    [1, 'one'],
    [2, 'two'],
    [3, 'three'],
  ]);
});
