import { mkdirSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { build as tsup } from 'tsup';
import { build as vite } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningServer } from '@chat/mock-server';
import { chatServer, email, eventually, launch, serveDir } from './harness.js';

// The SDK as it ships (tsup, ESM) inside a real Vite build: the app does nothing but
// createChatClient({ url }), and Vite must find and emit the worker by itself.
const here = fileURLToPath(new URL('.', import.meta.url));
const pkg = fileURLToPath(new URL('../../', import.meta.url));
// Under a `dist/` folder (ignored by git) inside the repo, so the SDK's dependencies resolve.
const out = join(here, 'dist', `vite-${process.pid}-${Date.now().toString(36)}`);

let browser: Browser;
let srv: RunningServer;
let site: Awaited<ReturnType<typeof serveDir>>;
let emitted: string[] = [];

beforeAll(async () => {
  mkdirSync(out, { recursive: true });
  const sdk = join(out, 'sdk');
  const app = join(out, 'app');
  const built = (async () => {
    await tsup({
      config: false,
      entry: { index: join(pkg, 'src/index.ts'), worker: join(pkg, 'src/worker.ts') },
      format: ['esm'],
      outDir: sdk,
      target: 'es2022',
      treeshake: true,
      dts: false,
      silent: true,
      tsconfig: join(pkg, '../../tsconfig.json'),
    });
    await vite({
      root: join(here, 'vite-app'),
      logLevel: 'silent',
      configFile: false,
      resolve: { alias: { '@chat/sdk': join(sdk, 'index.js') } },
      build: { outDir: app, emptyOutDir: true, minify: false },
    });
    emitted = readdirSync(join(app, 'assets'));
  })();
  [browser, srv] = await Promise.all([launch(), chatServer(), built]);
  site = await serveDir(app);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await srv?.close();
  await site?.close();
  rmSync(out, { recursive: true, force: true });
  try {
    rmdirSync(join(here, 'dist')); // only when no other run uses it
  } catch {
    // not empty: another run's output
  }
});

describe('in a Vite app build', () => {
  it('Vite emits the worker once, for both its uses (shared, and a leader tab\'s own)', () => {
    // (worker-hub-*.js is the tab's side of a leader's worker, a chunk of the page)
    const workers = emitted.filter((file) => /^worker-.*\.js$/.test(file) && !file.startsWith('worker-hub-'));
    expect(workers, emitted.join()).toHaveLength(1);
  });

  // 'auto' takes the SharedWorker Chromium has; 'leader' is what a browser without one runs.
  it.each([
    ['auto', 'shared-worker'],
    ['leader', 'leader'],
  ])('transport %s: two pages share one socket through the emitted worker (%s)', async (requested, expected) => {
    const context = await browser.newContext();
    const open = async () => {
      const page = await context.newPage();
      await page.goto(`${site.url}/`);
      await page.waitForFunction(() => typeof (globalThis as { app?: unknown }).app === 'object');
      const transport = await page.evaluate(([url, t]) => (globalThis as any).app.start(url, t), [srv.wsUrl, requested]);
      await page.evaluate(() => (globalThis as any).app.ready());
      return { page, transport };
    };
    const first = await open();
    expect(first.transport).toBe(expected);
    const alice = await first.page.evaluate((e) => (globalThis as any).app.signUp(e), email(`vite-${requested}`));
    const second = await open();
    await second.page.waitForFunction((id) => (globalThis as any).app.userId() === id, alice);
    expect(await second.page.evaluate(() => (globalThis as any).app.transport())).toBe(expected);
    await eventually(() => expect(srv.stats().perUser[alice]).toBe(1));
    await context.close();
  }, 30_000);
});
