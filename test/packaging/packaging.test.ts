// The packages as someone else's app gets them: `npm run build`, `npm pack` both packages,
// install the tarballs (not workspace links) into copies of the apps in fixtures/ outside
// the repository, and run them: a Vite + React app in headless Chromium, and Node scripts
// (ESM and CommonJS) with `ws`, all against the reference server.
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build as esbuild } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type ChatClient, createChatClient } from '@chat/sdk';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { eventually, launchChromium, run, serveStatic } from './helpers.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const APPS = ['react-vite', 'node-esm', 'node-cjs'] as const;

let work: string;
let srv: RunningServer;
let browser: Browser | undefined;
let site: Awaited<ReturnType<typeof serveStatic>> | undefined;
/** A second user on the test's side: the member of every room, and the one who checks what was stored. */
let bob: ChatClient;
let bobId: string;
let emitted: string[] = [];
/** Started at once, awaited after the builds; afterAll waits for them even when a build failed. */
let starting: Array<Promise<unknown>> = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'chat-packaging-'));
  const serverUp = (async () => {
    srv = await startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS });
    bob = createChatClient({ url: srv.wsUrl, WebSocket: WebSocket as never, storage: 'memory' });
    bobId = (await bob.signUp({ email: `bob-${Date.now()}@example.com`, name: 'Bob' })).id;
  })();
  const chromiumUp = launchChromium().then((b) => (browser = b));
  starting = [serverUp, chromiumUp];
  for (const promise of starting) promise.catch(() => {}); // reported by the await below, not as unhandled

  await run('npm', ['run', 'build'], { cwd: root, what: 'npm run build', timeoutMs: 120_000 });
  const tarballs = join(work, 'tarballs');
  mkdirSync(tarballs);
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tarballs, '-w', '@chat/sdk', '-w', '@chat/react'], {
    cwd: root,
    what: 'npm pack',
  });
  // The fixtures name the tarballs without their version (file:../tarballs/chat-sdk.tgz).
  for (const name of readdirSync(tarballs)) renameSync(join(tarballs, name), join(tarballs, name.replace(/-\d+\.\d+\.\d+.*\.tgz$/, '.tgz')));
  for (const app of APPS) {
    cpSync(join(fixtures, app), join(work, app), { recursive: true, filter: (src) => !/node_modules|dist/.test(src.slice(fixtures.length)) });
  }
  // One at a time: three npm installs at once on two cores are slower than in a row.
  for (const app of APPS) {
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund'], {
      cwd: join(work, app),
      what: `npm install in the ${app} fixture (test/packaging/fixtures/${app})`,
      hint:
        'The fixture installs the packed tarballs plus pinned versions from the npm cache; ' +
        "keep its versions equal to the root package-lock.json, and check that the tarballs' dependencies resolve.",
    });
  }
  const app = join(work, 'react-vite');
  await run(join(app, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: app, what: 'vite build of the react-vite fixture' });
  emitted = readdirSync(join(app, 'dist/assets'));
  // The self-hosting recipe of docs/bundlers.md, from the installed package.
  await esbuild({
    absWorkingDir: app,
    entryPoints: ['@chat/sdk/worker'],
    bundle: true,
    format: 'esm',
    minify: true,
    outfile: join(app, 'dist/chat-worker.js'),
    logLevel: 'error',
  });
  site = await serveStatic(join(app, 'dist'));
  await Promise.all([serverUp, chromiumUp]);
});

afterAll(async () => {
  await Promise.allSettled(starting);
  await browser?.close();
  await site?.close();
  bob?.close();
  await srv?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Bob's view of a room: eventually holds `text`, stored by the server (status sent, a seq). */
async function bobSees(roomId: string, text: string): Promise<void> {
  const store = bob.messages(roomId);
  await eventually(() => {
    const message = store.getSnapshot().messages.find((m) => m.text === text);
    expect(message, `bob never saw "${text}" in ${roomId}`).toBeDefined();
    expect(message?.status).toBe('sent');
    expect(message?.seq).toBeGreaterThan(0);
  });
}

describe('installed from the tarballs', () => {
  it('the fixtures pin what the root lock holds', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    for (const app of APPS) {
      const pkg = JSON.parse(readFileSync(join(fixtures, app, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      for (const [name, spec] of Object.entries({ ...pkg.dependencies, ...pkg.devDependencies })) {
        if (name.startsWith('@chat/')) expect(spec, `${app}: ${name}`).toMatch(/^file:\.\.\/tarballs\/.+\.tgz$/);
        else expect(spec, `${app}: ${name}`).toBe(lock.packages[`node_modules/${name}`]?.version);
      }
    }
  });

  it('installs real copies, not links into the workspace', () => {
    for (const app of APPS) {
      const sdk = join(work, app, 'node_modules/@chat/sdk');
      expect(existsSync(join(sdk, 'dist/index.js')), app).toBe(true);
      expect(existsSync(join(sdk, 'LICENSE')), app).toBe(true);
      expect(existsSync(join(sdk, 'src/index.ts')) && !existsSync(join(sdk, 'test')), app).toBe(true);
    }
    // @chat/react's own dependency on the SDK is the same (one) copy.
    expect(existsSync(join(work, 'react-vite/node_modules/@chat/react/node_modules/@chat/sdk'))).toBe(false);
  });

  it('Vite + React: Vite emits the worker; a message sent in one page shows in a second, over one socket', async () => {
    expect(emitted.some((file) => /^worker-.*\.js$/.test(file)), `emitted: ${emitted.join(', ')}`).toBe(true);
    const { context, problems, open } = await newContext();
    try {
      const first = await open();
      await expect.poll(() => first.getByTestId('transport').textContent()).toBe('shared-worker');
      const alice = await signUp(first, 'alice');
      const text = `hello from the Vite app ${Date.now()}`;
      await sendToBob(first, text);

      // The second page resumes Alice's session through the same worker and reads the room.
      const second = await open();
      await expect.poll(() => second.getByTestId('user-id').textContent(), { timeout: 15_000 }).toBe(alice);
      expect(await second.getByTestId('transport').textContent()).toBe('shared-worker');
      await second.getByRole('button', { name: 'Open Packaging' }).click();
      await second.locator('[data-testid=messages] li[data-status=sent]', { hasText: text }).waitFor({ timeout: 15_000 });

      await eventually(() => expect(srv.stats().perUser[alice]).toBe(1));
      await bobSees(await roomOf(second), text);
      expect(problems).toEqual([]);
    } catch (error) {
      if (problems.length > 0) console.error(`[react-vite] what the pages said:\n${problems.join('\n')}`);
      throw error;
    } finally {
      await context.close();
    }
  });

  it('Vite + React with a self-hosted worker (esbuild bundle of @chat/sdk/worker, workerUrl)', async () => {
    const { context, problems, open } = await newContext('&worker=/chat-worker.js');
    try {
      const page = await open();
      await expect.poll(() => page.getByTestId('transport').textContent()).toBe('shared-worker');
      const carol = await signUp(page, 'carol');
      const text = `hello through the self-hosted worker ${Date.now()}`;
      await sendToBob(page, text);
      expect(site!.requested).toContain('/chat-worker.js');
      await eventually(() => expect(srv.stats().perUser[carol]).toBe(1));
      await bobSees(await roomOf(page), text);
      expect(problems).toEqual([]);
    } catch (error) {
      if (problems.length > 0) console.error(`[react-vite, workerUrl] what the page said:\n${problems.join('\n')}`);
      throw error;
    } finally {
      await context.close();
    }
  });

  for (const [app, script] of [
    ['node-esm', 'index.mjs'],
    ['node-cjs', 'index.cjs'],
  ] as const) {
    it(`Node (${app === 'node-esm' ? 'ESM' : 'CommonJS'}): signs up, creates a room and sends with ws and memory storage`, async () => {
      const out = await run(process.execPath, [script, srv.wsUrl, bobId], { cwd: join(work, app), what: `node ${script} (${app} fixture)`, timeoutMs: 30_000 });
      const line = out.trim().split('\n').at(-1) ?? '';
      const result = JSON.parse(line) as { userId: string; roomId: string; clientId: string; seq: number; text: string };
      expect(result.seq).toBeGreaterThan(0);
      await bobSees(result.roomId, result.text);
    });
  }
});

/** A fresh browser context (its own storage and workers) whose pages report what went wrong. */
async function newContext(query = '') {
  const context = await browser!.newContext();
  const problems: string[] = [];
  const open = async (): Promise<Page> => {
    const page = await context.newPage();
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      // (a failed load is reported with its url below)
      if (/^Failed to load resource/.test(message.text())) return;
      if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('response', (response) => {
      // A missing worker script is a 404 here, then a silent fallback to in process.
      if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) problems.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${site!.url}/?server=${encodeURIComponent(srv.wsUrl)}${query}`);
    return page;
  };
  return { context, problems, open };
}

/** Signs up on `page` through the app's form; returns the new user's id. */
async function signUp(page: Page, name: string): Promise<string> {
  await page.getByLabel('Email').fill(`${name}-${Date.now()}@example.com`);
  await page.getByRole('button', { name: 'Sign up' }).click();
  const id = (await page.getByTestId('user-id').textContent({ timeout: 15_000 })) ?? '';
  expect(id).toMatch(/\S/);
  return id;
}

/** Creates a room with Bob on `page` and sends `text` into it; resolves once the server stored it. */
async function sendToBob(page: Page, text: string): Promise<void> {
  await page.getByLabel('Member').fill(bobId);
  await page.getByRole('button', { name: 'Create room' }).click();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.locator('[data-testid=messages] li[data-status=sent]', { hasText: text }).waitFor({ timeout: 15_000 });
}

/** The id of the room the page shows, read from Bob's side (he is its only other member). */
async function roomOf(page: Page): Promise<string> {
  const name = (await page.getByRole('button', { name: /^Open / }).first().textContent())?.replace(/^Open /, '');
  let id: string | undefined;
  await eventually(() => {
    id = bob.rooms.getSnapshot().find((room) => room.name === name)?.id;
    expect(id).toBeDefined();
  });
  return id!;
}
