// A slow link for upload tests: progress and cancel need an upload that takes a while.
import { type Server, type Socket, createServer, connect } from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A loopback TCP proxy in front of the server that passes the request bodies on at
 * `bytesPerSecond`: a slow link, so an upload is still going when the test cancels it.
 */
export async function slowLink(target: number, bytesPerSecond: number) {
  const stats = { forwarded: 0, clientClosed: false };
  const sockets = new Set<Socket>();
  const proxy: Server = createServer((down) => {
    const up = connect(target, '127.0.0.1');
    sockets.add(down).add(up);
    up.pipe(down);
    down.on('data', (chunk: Buffer) => {
      down.pause();
      up.write(chunk);
      stats.forwarded += chunk.length;
      setTimeout(() => down.resume(), (chunk.length / bytesPerSecond) * 1000);
    });
    down.on('close', () => {
      stats.clientClosed = true;
      up.destroy();
    });
    up.on('close', () => down.destroy());
    down.on('error', () => {
      stats.clientClosed = true;
      up.destroy();
    });
    up.on('error', () => down.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const close = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      proxy.close(() => resolve());
    });
  return { uploadUrl: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/uploads`, stats, close };
}
