// Shared set-up of the demo's browser tests and of `npm run screenshots`: the demo built
// once with Vite into a temp folder, served from 127.0.0.1, and headless Chromium.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { type RunningServer, type ServerOptions, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect } from 'vitest';
import { type StaticSite, launchChromium, serveDir as serveStatic } from '../../../test/support/browser.js';

export type { Browser, BrowserContext, Page };

const appRoot = fileURLToPath(new URL('..', import.meta.url));



/** `vite build` of the demo (the app's own vite.config.ts) into a fresh temp folder. */
export async function buildDemo(): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-demo-'));
  // Vitest sets NODE_ENV=test, which would give React's development build (and JSX runtime).
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: join(appRoot, 'vite.config.ts'),
      root: appRoot,
      logLevel: 'error',
      mode: 'production',
      build: { outDir: dir, emptyOutDir: true, sourcemap: false },
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}



/** Serves the built demo; paths without an extension get its index.html. */
export const serveDir = (dir: string) => serveStatic(dir, { spa: true });

export { launchChromium as launch };

/** The demo's page url for a chat server. */
export function demoUrl(appUrl: string, wsUrl: string, hash = ''): string {
  return `${appUrl}/?server=${encodeURIComponent(wsUrl)}${hash}`;
}

/** A page in its own browser context (its own storage, its own SharedWorker): one user. */
export async function openUser(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error.message));
  await page.goto(url);
  return { context, page };
}

/**
 * One reference server, one build of the demo (served from 127.0.0.1) and one Chromium per
 * test file. The contexts its users open are closed after the file, not after each test: a
 * file's users may live across its tests. `serverOptions` go to startServer (logs silent);
 * with `sqlite`, the server keeps its data in a SQLite file in a temp folder, so a server the
 * test closed comes back with it (`restartServer`).
 */
export function demoSuite(serverOptions: ServerOptions = {}, { sqlite = false }: { sqlite?: boolean } = {}) {
  let server: RunningServer | undefined;
  let browser: Browser | undefined;
  let app: StaticSite | undefined;
  let built: Awaited<ReturnType<typeof buildDemo>> | undefined;
  let dataDir: string | undefined;
  let options: ServerOptions = {};
  const contexts: BrowserContext[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the demo suite is not started yet');
    return value;
  };

  beforeAll(async () => {
    if (sqlite) dataDir = mkdtempSync(join(tmpdir(), 'chat-demo-db-'));
    options = { logLevel: 'silent', ...TEST_SERVER_OPTIONS, ...serverOptions, ...(dataDir ? { db: join(dataDir, 'chat.sqlite') } : {}) };
    [server, built, browser] = await Promise.all([startServer(options), buildDemo(), launchChromium()]);
    app = await serveDir(built.dir);
  });
  afterAll(async () => {
    await Promise.all(contexts.map((c) => c.close().catch(() => undefined)));
    await browser?.close();
    await app?.close();
    await server?.close();
    built?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  return {
    get server() {
      return started(server);
    },
    get browser() {
      return started(browser);
    },
    /** Where the built demo is served. */
    get appUrl() {
      return started(app).url;
    },
    /** The folder of the built demo. */
    get builtDir() {
      return started(built).dir;
    },
    /** The demo's page url for this suite's chat server, or for another one. */
    url: (wsUrl = started(server).wsUrl) => demoUrl(started(app).url, wsUrl),
    /** `openUser` in this suite's browser; the context is closed after the file. */
    async openUser(url: string): Promise<{ context: BrowserContext; page: Page }> {
      const user = await openUser(started(browser), url);
      contexts.push(user.context);
      return user;
    },
    /** Starts the chat server again, after the test closed it: same options, same port (and SQLite file). */
    async restartServer(): Promise<RunningServer> {
      server = await startServer({ ...options, port: started(server).port });
      return server;
    },
  };
}

/** Signs up through the form. */
export async function signUp(page: Page, email: string, name: string): Promise<void> {
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Display name').fill(name);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('button', { name: '+ New room' }).waitFor();
}

/** Creates a room with the people whose names are given (searching for each), and opens it. */
export async function createRoom(page: Page, people: string[], name?: string): Promise<void> {
  await page.getByRole('button', { name: '+ New room' }).click();
  const search = page.getByRole('searchbox', { name: 'People' });
  for (const person of people) {
    await search.fill(person);
    await page.getByRole('checkbox', { name: new RegExp(person) }).check();
  }
  if (name) await page.getByLabel(/Room name/).fill(name);
  await page.getByRole('button', { name: /^Create room/ }).click();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
}

/** Types into the composer and presses Enter. */
export async function sendText(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/** The conversation's message items. */
export function messageItems(page: Page) {
  return page.getByRole('log', { name: 'Messages' }).locator('li.message');
}

/**
 * Waits until the room's draft is in IndexedDB (`chat-sdk` › `draftMessages`, documented in
 * docs/messages.md) with this text. A reload sooner than the debounce loses the last edits.
 */
export async function draftStored(page: Page, text: string, withImage: boolean): Promise<void> {
  const stored = () =>
    page.evaluate(async () => {
      const db = await new Promise<IDBDatabase>((resolve, reject) => {
        const open = indexedDB.open('chat-sdk');
        open.onsuccess = () => resolve(open.result);
        open.onerror = () => reject(open.error);
      });
      try {
        if (!db.objectStoreNames.contains('draftMessages')) return [];
        return await new Promise<Array<{ text: string; image: Blob | null }>>((resolve, reject) => {
          const all = db.transaction('draftMessages').objectStore('draftMessages').getAll();
          all.onsuccess = () => resolve(all.result as Array<{ text: string; image: Blob | null }>);
          all.onerror = () => reject(all.error);
        });
      } finally {
        db.close();
      }
    });
  await expect
    .poll(async () => (await stored()).some((row) => row.text === text && (row.image !== null) === withImage), { interval: 100, timeout: 10_000 })
    .toBe(true);
}

/** A real PNG drawn pixel by pixel (RGB), for image messages and screenshots. */
export function makePng(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), row + 1 + x * 3);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), body.length + 4);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const signature = Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]);
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function crc32(bytes: Buffer): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A soft blue-to-violet gradient, 160 x 110. */
export const PNG = makePng(160, 110, (x, y) => [120 + Math.round(x * 0.6), 140 + Math.round(y * 0.5), 230]);
