// Helpers of the packaging test: child processes with clear failures, a static server,
// and Chromium with the flags every browser test here uses.
import { spawn } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { type Browser, chromium } from 'playwright-core';

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

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** Serves a built app from `dir` on a random loopback port; unknown paths are 404. */
export async function serveStatic(dir: string): Promise<{ url: string; requested: string[]; close(): Promise<void> }> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requested.push(path);
    const file = normalize(join(dir, path === '/' ? 'index.html' : path));
    try {
      if (!file.startsWith(dir + sep) || !statSync(file).isFile()) throw new Error('not a file');
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
      res.end(readFileSync(file));
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requested,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** Polls `fn` until it stops throwing. */
export async function eventually(fn: () => void | Promise<void>, timeoutMs = 10_000, stepMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await fn();
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, stepMs));
    }
  }
}
