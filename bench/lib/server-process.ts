import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ServerOptions } from '@chat/mock-server';

const childPath = fileURLToPath(new URL('./server-child.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.json', import.meta.url));

/** A server (ours or the baseline) in a child process: start, measure, close, or SIGKILL it. */
export class ServerProcess {
  private next = 0;
  private readonly waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
  readonly exited: Promise<number | null>;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.result);
      else waiter?.reject(new Error(reply.error));
    });
    this.exited = new Promise((resolve) =>
      child.on('exit', (code) => {
        for (const { reject } of this.waiting.values()) reject(new Error(`server process exited (${code})`));
        this.waiting.clear();
        resolve(code);
      }),
    );
  }

  static async spawn(): Promise<ServerProcess> {
    const child = fork(childPath, [], {
      execArgv: ['--import', 'tsx', '--expose-gc'],
      env: { ...process.env, TSX_TSCONFIG_PATH: tsconfig },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const server = new ServerProcess(child);
    await new Promise<void>((resolve, reject) => {
      server.waiting.set(0, { resolve: () => resolve(), reject });
      setTimeout(() => reject(new Error('server process did not start within 20 s')), 20_000).unref();
    });
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  start(kind: 'chat' | 'baseline', options: ServerOptions = {}): Promise<{ wsUrl: string; port: number }> {
    return this.command({ cmd: 'start', kind, options });
  }

  /** The child's memory after two forced collections. */
  memory(): Promise<NodeJS.MemoryUsage> {
    return this.command({ cmd: 'memory' });
  }

  /** The server process's event-loop delay since the last call (ms): what any frame waited at most. */
  loopDelay(): Promise<{ p99: number; max: number }> {
    return this.command({ cmd: 'loop' });
  }

  /** Runs the reference server's background clean-up now (expired sessions, orphan uploads). */
  sweep(): Promise<void> {
    return this.command({ cmd: 'sweep' });
  }

  /** Starts V8's CPU profiler in the server process (sampling every 100 µs). */
  profileStart(): Promise<void> {
    return this.command({ cmd: 'profile-start' });
  }

  /** Stops the profiler and writes the profile (a `.cpuprofile`, as `node --cpu-prof` writes) to `file`. */
  profileStop(file: string): Promise<void> {
    return this.command({ cmd: 'profile-stop', file });
  }

  cpu(): Promise<NodeJS.CpuUsage> {
    return this.command({ cmd: 'cpu' });
  }

  /** Closes the server (1001 to every socket); the process stays for the next `start`. */
  close(): Promise<void> {
    return this.command({ cmd: 'close' });
  }

  /** Ends the process: a crash, with no goodbye to any socket. */
  async kill(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    await this.exited;
  }

  private command(body: object, timeoutMs = 60_000): Promise<any> {
    const id = ++this.next;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        reject(new Error(`server process: no answer to ${JSON.stringify(body)} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiting.set(id, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.child.send({ id, ...body });
    });
  }
}
