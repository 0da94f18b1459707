import { type Server, type Socket, createServer, connect } from 'node:net';

export interface ProxyOptions {
  /** Each connection is cut after a random lifetime in this range (ms); [0, 0] never cuts. */
  lifetimeMs: [number, number];
  /** Each chunk waits a random delay up to this (ms), order kept. */
  maxDelayMs: number;
  /** Chance a chunk is split in random pieces, each sent on its own. */
  splitChance: number;
  random?: () => number;
}

export interface ProxyStats {
  connections: number;
  cuts: number;
  chunks: number;
  splits: number;
}

/**
 * A TCP proxy on loopback that misbehaves like a bad network: it cuts connections at
 * random, delays bytes and splits TCP chunks (never reorders or loses bytes within a
 * connection, as TCP would not). `setChaos(false)` makes it a plain pipe for the rest.
 */
export class ChaosProxy {
  readonly stats: ProxyStats = { connections: 0, cuts: 0, chunks: 0, splits: 0 };
  private chaos = true;
  private readonly open = new Set<Socket>();
  private readonly random: () => number;

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: ProxyOptions,
  ) {
    this.random = options.random ?? Math.random;
  }

  static async start(targetPort: number, options: ProxyOptions): Promise<ChaosProxy> {
    let proxy: ChaosProxy | undefined;
    const server = createServer((client) => proxy?.accept(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no port');
    proxy = new ChaosProxy(server, address.port, options);
    return proxy;
  }

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  setChaos(on: boolean): void {
    this.chaos = on;
  }

  async close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket, targetPort: number): void {
    this.stats.connections++;
    const upstream = connect(targetPort, '127.0.0.1');
    this.open.add(client);
    this.open.add(upstream);
    let lifetime: NodeJS.Timeout | undefined;
    const end = () => {
      clearTimeout(lifetime);
      client.destroy();
      upstream.destroy();
      this.open.delete(client);
      this.open.delete(upstream);
    };
    const [min, max] = this.options.lifetimeMs;
    if (this.chaos && max > 0) {
      lifetime = setTimeout(() => {
        if (!this.chaos) return;
        this.stats.cuts++;
        end();
      }, min + this.random() * (max - min));
    }
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      socket.on('error', end);
      socket.on('close', end);
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  /** Moves bytes from `from` to `to` through a queue, so delays and splits never reorder them. */
  private forward(from: Socket, to: Socket): void {
    const queue: Array<{ due: number; bytes: Buffer }> = [];
    let timer: NodeJS.Timeout | undefined;
    let lastDue = 0;
    const pump = () => {
      timer = undefined;
      const now = Date.now();
      while (queue.length > 0 && (queue[0] as { due: number }).due <= now) {
        const { bytes } = queue.shift() as { bytes: Buffer };
        if (!to.destroyed) to.write(bytes);
      }
      if (queue.length > 0) timer = setTimeout(pump, (queue[0] as { due: number }).due - now);
    };
    from.on('data', (chunk: Buffer) => {
      this.stats.chunks++;
      const pieces: Buffer[] = [];
      if (this.chaos && chunk.length > 1 && this.random() < this.options.splitChance) {
        this.stats.splits++;
        let at = 0;
        while (at < chunk.length) {
          const size = 1 + Math.floor(this.random() * Math.min(chunk.length - at, 64));
          pieces.push(chunk.subarray(at, at + size));
          at += size;
        }
      } else {
        pieces.push(chunk);
      }
      for (const bytes of pieces) {
        const delay = this.chaos ? this.random() * this.options.maxDelayMs : 0;
        lastDue = Math.max(lastDue, Date.now() + delay);
        queue.push({ due: lastDue, bytes });
      }
      if (timer === undefined) pump();
    });
    from.on('close', () => clearTimeout(timer));
  }
}
