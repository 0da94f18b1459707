// Helpers of the packaging test: child processes with clear failures, a static server,
// and Chromium with the flags every browser test here uses.
import { spawn } from 'node:child_process';
export { eventually, launchChromium, serveDir as serveStatic } from '../support/browser.js';

/**
 * The environment of a child process without what the surrounding `npm test` and vitest
 * put there (npm_config_* would steer a nested `npm install`, NODE_ENV=test would make
 * Vite build React for development).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|VITEST|VITE_|NODE_ENV$|NODE_OPTIONS$|TEST$|INIT_CWD$)/i.test(key)) continue;
    env[key] = value;
  }
  return env;
}

export interface RunOptions {
  cwd: string;
  /** What the step is, for the error message ("npm install in node-esm"). */
  what: string;
  timeoutMs?: number;
  /** What to tell the reader when the step fails. */
  hint?: string;
}

/** Runs a command; resolves with its stdout, or rejects with the step, exit code and output tail. */
export function run(command: string, args: string[], options: RunOptions): Promise<string> {
  const { cwd, what, timeoutMs = 120_000, hint } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    const fail = (why: string) => {
      const tail = (text: string) => text.trim().split('\n').slice(-40).join('\n');
      reject(
        new Error(
          [`${what} ${why}`, `  command: ${command} ${args.join(' ')}`, `  cwd: ${cwd}`, hint && `  ${hint}`, stderr && `--- stderr ---\n${tail(stderr)}`, stdout && `--- stdout ---\n${tail(stdout)}`]
            .filter(Boolean)
            .join('\n'),
        ),
      );
    };
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(`could not start: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(stdout);
      else fail(signal === 'SIGKILL' ? `timed out after ${timeoutMs} ms` : `failed (exit ${code ?? signal})`);
    });
  });
}




