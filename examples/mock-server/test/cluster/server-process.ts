import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../../src/main.ts', import.meta.url));
// Node itself with tsx's loader (not the tsx launcher, which runs node as a child a SIGKILL would miss).
const root = fileURLToPath(new URL('../../../../', import.meta.url));

/**
 * `npm run server` as a deployment runs it: src/main.ts in its own process, configured by
 * the environment only, so it can be killed with SIGKILL. Test settings: a free port,
 * email sign-in, no sample, sign-ups from one address out of the way.
 */
export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly exited: Promise<{ code: number | null; stderr: string }>,
  ) {}

  get wsUrl(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Starts one and resolves once it listens; rejects with its stderr when it exits first. */
  static async start(env: Record<string, string>): Promise<ServerProcess> {
    const { child, exited, listening } = launch(env);
    const port = await Promise.race([
      listening,
      exited.then(({ code, stderr }) => Promise.reject(new Error(`server exited (${code}): ${stderr.trim()}`))),
    ]);
    return new ServerProcess(child, port, exited);
  }

  /** Starts one expected to refuse: its exit code and stderr. */
  static async refused(env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const { child, exited, listening } = launch(env);
    const started = await Promise.race([listening.then(() => true), exited.then(() => false)]);
    if (started) child.kill('SIGKILL');
    return exited;
  }

  kill(): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    return this.exited;
  }

  stop(): Promise<unknown> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    return this.exited;
  }
}

function launch(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', main], {
    cwd: root,
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      CHAT_EMAIL_LOGIN: 'on',
      CHAT_SAMPLE: 'off',
      LOG_LEVEL: 'error',
      CHAT_RESTART_RETRY_AFTER_MS: '0',
      CHAT_LIMIT_SIGNUPS_PER_IP: '100000',
      CHAT_LIMIT_ROOMS_PER_USER: '100000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const listening = new Promise<number>((resolve) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout)?.[1];
      if (port) resolve(Number(port));
    });
  });
  const exited = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
  return { child, exited, listening };
}
