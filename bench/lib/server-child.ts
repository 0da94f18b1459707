/**
 * A server in its own process, driven over IPC by `ServerProcess`: the reference server
 * (`kind: 'chat'`) or the bare broadcast baseline (`kind: 'baseline'`). Being alone in its
 * process, its CPU and memory can be measured apart from the load generator's.
 */
import { startServer, type RunningServer, type ServerOptions, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startBaseline } from './baseline-server.js';

type Command =
  | { id: number; cmd: 'start'; kind: 'chat' | 'baseline'; options: ServerOptions }
  | { id: number; cmd: 'profile-stop'; file: string }
  | { id: number; cmd: 'memory' | 'cpu' | 'close' | 'sweep' | 'loop' | 'profile-start' };

/**
 * V8's CPU profiler (what `node --cpu-prof` runs), started and stopped on command so a
 * profile holds the load phase alone, not the sign-ups before it.
 */
let profiler: Session | undefined;

/** The event loop's delay (what every frame waits), reset by each `loop` command. */
const loopDelay = monitorEventLoopDelay({ resolution: 5 });
loopDelay.enable();

let server: (Pick<RunningServer, 'wsUrl' | 'port' | 'close'> & Partial<Pick<RunningServer, 'sweep'>>) | undefined;
const gc = (globalThis as { gc?: () => void }).gc;

async function handle(command: Command): Promise<unknown> {
  switch (command.cmd) {
    case 'start':
      // A bench's own `limits` replace the test ones whole: the hostile suite runs on the deployment defaults.
      server = command.kind === 'chat' ? await startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS, ...command.options }) : await startBaseline(command.options.port ?? 0);
      return { wsUrl: server.wsUrl, port: server.port };
    case 'memory':
      // Twice: the second pass collects what the first one's finalizers released.
      gc?.();
      gc?.();
      return { ...process.memoryUsage(), gc: Boolean(gc) };
    case 'cpu':
      return process.cpuUsage();
    case 'loop': {
      const result = { p99: loopDelay.percentile(99) / 1e6, max: loopDelay.max / 1e6 };
      loopDelay.reset();
      return result;
    }
    case 'sweep':
      server?.sweep?.();
      return {};
    case 'profile-start':
      profiler = new Session();
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 100 });
      await profiler.post('Profiler.start');
      return {};
    case 'profile-stop': {
      if (!profiler) throw new Error('no profile running');
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      profiler = undefined;
      writeFileSync(command.file, JSON.stringify(profile));
      return { file: command.file };
    }
    case 'close':
      await server?.close();
      server = undefined;
      return {};
  }
}

process.on('message', (command: Command) => {
  handle(command).then(
    (result) => process.send?.({ id: command.id, ok: true, result }),
    (error: unknown) => process.send?.({ id: command.id, ok: false, error: String(error) }),
  );
});
process.on('disconnect', () => process.exit(0));
process.send?.({ id: 0, ok: true, result: 'ready' });
