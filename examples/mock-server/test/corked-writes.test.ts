import { Duplex } from 'node:stream';
import { setImmediate as turn } from 'node:timers/promises';
import { describe, expect, test } from 'vitest';
import { corkForTurn } from '../src/corked-writes.js';

/** A socket stand-in that records each write it hands down: one entry per system call a real socket would make. */
function recordingSocket(): { socket: Duplex; writes: string[][] } {
  const writes: string[][] = [];
  const socket = new Duplex({
    read() {},
    write(chunk, _encoding, done) {
      writes.push([String(chunk)]);
      done();
    },
    writev(chunks, done) {
      writes.push(chunks.map((c) => String(c.chunk)));
      done();
    },
  });
  return { socket, writes };
}

describe('corked writes (what a socket is sent in one turn leaves in one write)', () => {
  test('frames written in one turn, to several sockets, go out together per socket once the turn is over', async () => {
    const a = recordingSocket();
    const b = recordingSocket();
    for (const [socket, frame] of [[a.socket, 'reply'], [b.socket, 'event 1'], [a.socket, 'event 1'], [b.socket, 'event 2']] as const) {
      corkForTurn(socket);
      socket.write(frame);
    }
    expect(a.writes).toEqual([]); // held until the turn is over
    await turn();
    expect(a.writes).toEqual([['reply', 'event 1']]);
    expect(b.writes).toEqual([['event 1', 'event 2']]);
  });

  test('a frame of a later turn is corked again and flushed on its own', async () => {
    const a = recordingSocket();
    corkForTurn(a.socket);
    a.socket.write('first');
    await turn();
    corkForTurn(a.socket);
    a.socket.write('second');
    await turn();
    expect(a.writes).toEqual([['first'], ['second']]);
    expect(a.socket.writableCorked).toBe(0);
  });
});
