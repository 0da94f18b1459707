// The server goes away and comes back: the banner says so, and what was sent meanwhile goes out.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunningServer, startServer } from '@chat/mock-server';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Browser, type BrowserContext, type Page, buildDemo, createRoom, demoUrl, launch, messageItems, openUser, sendText, serveDir, signUp } from './harness.js';

let server: RunningServer;
let browser: Browser;
let app: { url: string; close(): Promise<void> };
let built: { dir: string; cleanup(): void };
let dataDir: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'chat-demo-db-'));
  [server, built, browser] = await Promise.all([startServer({ logLevel: 'silent', db: join(dataDir, 'chat.sqlite') }), buildDemo(), launch()]);
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

it('shows reconnecting while the server is down, and sends what was written offline when it is back', async () => {
  const url = demoUrl(app.url, server.wsUrl);
  const [a, b] = await Promise.all([openUser(browser, url), openUser(browser, url)]);
  contexts.push(a.context, b.context);
  const [ada, bob] = [a.page, b.page] as [Page, Page];
  await Promise.all([signUp(ada, 'ada@example.com', 'Ada Lovelace'), signUp(bob, 'bob@example.com', 'Bob Stone')]);
  await createRoom(ada, ['Bob']);
  await sendText(ada, 'Before the outage');
  await bob.getByRole('navigation', { name: 'Your rooms' }).getByRole('button', { name: /Ada Lovelace/ }).click();
  await messageItems(bob).filter({ hasText: 'Before the outage' }).waitFor();
  expect(await ada.getByRole('status').count()).toBe(0); // connected: no banner

  await server.close();
  const banner = ada.getByRole('status').filter({ hasText: 'Reconnecting' });
  await banner.waitFor();
  expect(await banner.getAttribute('data-status')).toBe('reconnecting');
  await expect.poll(() => banner.textContent()).toMatch(/attempt \d+, (next try in \d+ s|trying now)/);

  // It says why, with the SDK's code (a server that is gone: the client's own codes).
  const reason = banner.locator('.banner-reason');
  await reason.waitFor();
  const code = await reason.getAttribute('data-code');
  expect(code).toMatch(/^(NETWORK|CLOSED|TIMEOUT)$/);
  expect(await reason.textContent()).toContain(`${code}: `);
  await expect.poll(() => ada.locator('footer.status-line [data-code]').textContent()).toMatch(/^ \((NETWORK|CLOSED|TIMEOUT)\)$/);

  await sendText(ada, 'Written while offline');
  const offline = messageItems(ada).filter({ hasText: 'Written while offline' });
  expect(await offline.getAttribute('data-status')).toBe('pending');

  // Wait for a long backoff, bring the server back, and press "Try now": it connects at once
  // instead of after the wait, and what was written offline goes out.
  const msLeft = async () => Number((await banner.getAttribute('data-next-retry-at')) ?? 0) - Date.now();
  await expect.poll(msLeft, { timeout: 80_000, interval: 100 }).toBeGreaterThanOrEqual(5_000);
  server = await startServer({ logLevel: 'silent', db: join(dataDir, 'chat.sqlite'), port: server.port });
  expect(await msLeft()).toBeGreaterThanOrEqual(3_000);
  await banner.getByRole('button', { name: 'Try now' }).click();
  await offline.locator('[aria-label="Sent"]').waitFor({ timeout: 2_500 });
  await banner.waitFor({ state: 'detached' });
  await messageItems(bob).filter({ hasText: 'Written while offline' }).waitFor({ timeout: 40_000 });
}, 150_000);
