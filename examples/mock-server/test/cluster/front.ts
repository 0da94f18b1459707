import { type Server, type Socket, connect, createServer } from 'node:net';

/**
 * What a load balancer does for these tests: a loopback TCP port that hands each new
 * connection to the next backend, round robin, skipping one that refuses (a dead process).
 * A connection whose backend dies is cut, as a real balancer's would be, and the client's
 * reconnect lands on a live one.
 */
export class Front {
  private next = 0;
  private readonly open = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly backends: number[],
  ) {}

  static async start(backends: number[]): Promise<Front> {
    let front: Front | undefined;
    const server = createServer((client) => front?.accept(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    front = new Front(server, (server.address() as { port: number }).port, backends);
    return front;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, tried = 0): void {
    client.pause();
    const port = this.backends[this.next++ % this.backends.length]!;
    const upstream = connect(port, '127.0.0.1');
    upstream.once('error', () => {
      upstream.destroy();
      if (tried + 1 < this.backends.length && !client.destroyed) this.accept(client, tried + 1);
      else client.destroy();
    });
    upstream.once('connect', () => {
      upstream.removeAllListeners('error');
      this.open.add(client);
      this.open.add(upstream);
      const end = () => {
        client.destroy();
        upstream.destroy();
        this.open.delete(client);
        this.open.delete(upstream);
      };
      client.on('error', end).on('close', end);
      upstream.on('error', end).on('close', end);
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
  }
}
