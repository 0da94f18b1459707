// What every browser test needs, whichever package it tests: headless Debian Chromium,
// a static server for built pages on a loopback port, and polling until a condition holds.
import { readFileSync, statSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { findChromium } from './chromium.mjs';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/**
 * The Chromium every browser test launches: CHROMIUM_PATH, else a system Chromium
 * (test/support/chromium.mjs). Never skips: with none, it throws one line saying how to get
 * one (`npm test` installs Debian's chromium first when it can, scripts/ensure-chromium.mjs).
 */
export function chromiumPath(): string {
  return findChromium(process.env);
}

/** One headless Chromium; `bfcache` keeps the back/forward cache Playwright turns off by default. */
export async function launchChromium(options: { bfcache?: boolean } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: CHROMIUM_ARGS,
    ...(options.bfcache ? { ignoreDefaultArgs: ['--disable-back-forward-cache'] } : {}),
  });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
  '.map': 'application/json',
};

export interface StaticSite {
  url: string;
  /** Every path asked for, in order. */
  requested: string[];
  close(): Promise<void>;
}

/**
 * Serves `dir` on a random loopback port. Unknown paths are 404 (as a missing worker
 * would be), or, with `spa`, paths without an extension get the app's index.html.
 */
export async function serveDir(dir: string, options: { spa?: boolean } = {}): Promise<StaticSite> {
  const requested: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    requested.push(path);
    let file = normalize(join(dir, path === '/' ? 'index.html' : path));
    if (options.spa && !extname(path)) file = join(dir, 'index.html');
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

/** Polls `fn` until it stops throwing, or rethrows its last error after `timeoutMs`. */
export async function eventually(fn: () => void | Promise<void>, timeoutMs = 10_000, stepMs = 25): Promise<void> {
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
