import type { Duplex } from 'node:stream';

/**
 * Sockets written to since the last flush: corked at their first frame, uncorked together
 * by one `setImmediate`, so that what a socket is sent in one turn of the event loop (a
 * group commit's replies and its rooms' events, the replies to the frames just read) leaves
 * in one system call, not one a frame. The write was about half of the server's time under
 * load. `setImmediate` rather than `nextTick`: it also takes in the frames of the turn's
 * other callbacks (about 10% less CPU a delivery at 5,000 users, docs/benchmarks.md), and it
 * runs as soon as the poll phase is done, so an idle server adds no wait.
 */
let corked: Duplex[] = [];

function uncorkAll(): void {
  // Emptied first: a frame written while these flush corks its socket for the next round.
  const sockets = corked;
  corked = [];
  for (const socket of sockets) socket.uncork();
}

/** Corks `socket` until the flush, unless it is already. */
export function corkForTurn(socket: Duplex): void {
  // Corked means corked here: `ws` corks a socket only inside a send, and uncorks it before returning.
  if (socket.writableCorked > 0) return;
  if (corked.length === 0) setImmediate(uncorkAll);
  corked.push(socket);
  socket.cork();
}
