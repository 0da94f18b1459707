// Shared set-up of the browser tests: an esbuild bundle of a fixture page (and the worker)
// served from 127.0.0.1, headless Chromium, and the reference server.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { eventually, launchChromium, serveDir } from '../../../../test/support/browser.js';
import { type RunningServer, startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import type { ChatClientOptions } from '../../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const sdkSrc = fileURLToPath(new URL('../../src/', import.meta.url));




/** Builds the fixture page and the SDK's worker from sources into a temp folder, side by side. */
export async function buildFixture(): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-sdk-browser-'));
  await build({
    entryPoints: { page: join(here, 'fixture/page.ts'), worker: join(sdkSrc, 'worker.ts') },
    outdir: dir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    sourcemap: 'inline',
    logLevel: 'error',
  });
  writeFileSync(join(dir, 'index.html'), '<!doctype html><meta charset="utf-8"><title>chat-sdk</title><script type="module" src="/page.js"></script>\n');
  writeFileSync(join(dir, 'other.html'), '<!doctype html><meta charset="utf-8"><title>other</title>\n');
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function chatServer(): Promise<RunningServer> {
  return startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS, origins: ['http://127.0.0.1:*', 'http://localhost:*'] });
}

/** Fast timings so liveness checks run in a second, not a minute. */
export const FAST: Partial<ChatClientOptions> = {
  linkPingIntervalMs: 150,
  linkMaxMissedPings: 4,
  hostGraceMs: 400,
  backoffOptions: { baseMs: 50, maxMs: 400 },
  requestTimeoutMs: 4000,
  draftDebounceMs: 20,
};

interface ChatTestApi {
  create(options: ChatClientOptions, withInTab?: boolean): string;
  ready(): Promise<void>;
  transport(): string;
  /** WebSockets the page opened itself (not its workers). */
  pageSockets(): number;
  signUp(email: string): Promise<string>;
  login(email: string): Promise<string>;
  logout(): Promise<void>;
  userId(): string | null;
  status(): string;
  createRoom(memberIds: string[]): Promise<string>;
  roomIds(): string[];
  send(roomId: string, text: string): string;
  unread(roomId: string): number;
  markRead(roomId: string): Promise<void>;
  receipts(roomId: string): Readonly<Record<string, number>>;
  messages(roomId: string): Array<{ clientId: string; text: string; status: string; seq: number | null; senderId: string }>;
  seen: Array<{ roomId: string; text: string }>;
  startTyping(roomId: string): void;
  typing(roomId: string): readonly string[];
  watchPresence(userIds: string[]): void;
  presence(userIds: string[]): Readonly<Record<string, { online: boolean; lastSeenAt: number | null }>>;
  presenceSeen: Array<Readonly<Record<string, { online: boolean; lastSeenAt: number | null }>>>;
  transports: string[];
  errors(): string[];
  close(): void;
}
declare global {
  // eslint-disable-next-line no-var
  var chatTest: ChatTestApi;
}

/** Opens the fixture page in `context` and creates a client on it. */
export async function openChat(context: BrowserContext, pageUrl: string, options: ChatClientOptions): Promise<Page> {
  const page = await context.newPage();
  page.on('pageerror', (error) => console.error('[page error]', error.message));
  await page.goto(`${pageUrl}/`);
  await page.waitForFunction(() => typeof globalThis.chatTest === 'object');
  // (typed loosely: Playwright's types of a serialised argument recurse too deep on these options)
  await page.evaluate((o) => {
    chatTest.create(o as ChatClientOptions);
  }, options as unknown);
  await page.evaluate(() => chatTest.ready());
  return page;
}


let counter = 0;
export const email = (name = 'user') => `${name}-${Date.now().toString(36)}-${counter++}@example.com`;

/**
 * One Chromium, one reference server and one served fixture per test file; the browser
 * contexts a test opens are closed after it. `options` are the clients' settings.
 */
export function chromiumSuite(setup: { bfcache?: boolean; options: (srv: RunningServer) => ChatClientOptions }) {
  let browser: Browser | undefined;
  let srv: RunningServer | undefined;
  let site: Awaited<ReturnType<typeof serveDir>> | undefined;
  let fixture: Awaited<ReturnType<typeof buildFixture>> | undefined;
  const contexts: BrowserContext[] = [];
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the browser suite is not started yet');
    return value;
  };

  beforeAll(async () => {
    [browser, srv, fixture] = await Promise.all([launchChromium({ bfcache: setup.bfcache ?? false }), chatServer(), buildFixture()]);
    site = await serveDir(fixture.dir);
  }, 30_000);
  afterEach(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => undefined);
  });
  afterAll(async () => {
    await browser?.close();
    await srv?.close();
    await site?.close();
    fixture?.cleanup();
  });

  const suite = {
    get browser() {
      return started(browser);
    },
    get srv() {
      return started(srv);
    },
    get site() {
      return started(site);
    },
    /** Open sockets of a user, as the server counts them. */
    sockets: (userId: string) => started(srv).stats().perUser[userId] ?? 0,
    async context(): Promise<BrowserContext> {
      const context = await started(browser).newContext();
      contexts.push(context);
      return context;
    },
    /** `n` pages of the fixture in `context`, each with a client made with `options`. */
    async pages(context: BrowserContext, n: number, options = setup.options(started(srv))): Promise<Page[]> {
      const list: Page[] = [];
      for (let i = 0; i < n; i++) list.push(await openChat(context, started(site).url, options));
      return list;
    },
    /** Another user, in a context (and so a host) of their own, in a room with `memberIds`. */
    async stranger(memberIds: string[]) {
      const [page] = await suite.pages(await suite.context(), 1, { url: started(srv).wsUrl, transport: 'in-tab', ...FAST });
      const id = await page!.evaluate((e) => chatTest.signUp(e), email('stranger'));
      const roomId = await page!.evaluate((ids) => chatTest.createRoom(ids), memberIds);
      return { page: page!, id, roomId };
    },
  };
  return suite;
}

/** Waits until every page lists the room, and opens its messages there. */
export async function waitForRoom(list: Page[], roomId: string): Promise<void> {
  for (const p of list) {
    await p.waitForFunction((r) => chatTest.roomIds().includes(r), roomId);
    await p.evaluate((r) => void chatTest.messages(r), roomId);
  }
}

/** Waits until `text` shows as sent in the room on every page. */
export const sentEverywhere = (list: Page[], roomId: string, text: string) =>
  Promise.all(list.map((p) => p.waitForFunction(([r, t]) => chatTest.messages(r!).some((m) => m.text === t && m.status === 'sent'), [roomId, text])));

export { eventually, launchChromium as launch, serveDir };
