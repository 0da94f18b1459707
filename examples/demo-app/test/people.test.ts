// Two people in one browser: each tab keeps the person it shows. And the status line tells
// the truth about what carries the chat.
import { cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, TEST_SERVER_OPTIONS } from '@chat/mock-server';
import { createChatClient } from '@chat/sdk';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Page, createRoom, demoSuite, demoUrl, messageItems, sendText, serveDir, signUp } from './harness.js';

const suite = demoSuite();

const me = (page: Page) => page.locator('.sidebar-head .me-name');
const rooms = (page: Page) => page.getByRole('navigation', { name: 'Your rooms' }).getByRole('button');
const item = (page: Page, text: string) => messageItems(page).filter({ hasText: text });

/** Before the page's own scripts: remembers whether the sign-in form was ever on screen. */
async function watchForSignInForm(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const w = window as { __signInFormShown?: boolean };
    w.__signInFormShown = false;
    new MutationObserver((records) => {
      for (const record of records) {
        for (const node of record.addedNodes) {
          if (node instanceof Element && (node.matches('form.login') || node.querySelector('form.login'))) w.__signInFormShown = true;
        }
      }
    }).observe(document, { childList: true, subtree: true });
  });
}
const signInFormShown = (page: Page) => page.evaluate(() => (window as { __signInFormShown?: boolean }).__signInFormShown);

describe('two people in one browser', () => {
  it('a second tab resumes Ada, switches to Bob; each tab keeps its person; Bob logging out leaves Ada', async () => {
    // Carol, by script: Ada has a room with her that Bob must never see.
    const carolClient = createChatClient({ url: suite.server.wsUrl, WebSocket, storage: 'memory', transport: 'websocket' });
    await carolClient.signUp({ email: 'carol@example.com', name: 'Carol Reyes' });
    carolClient.close();

    const url = suite.url();
    const { context, page: tab1 } = await suite.openUser(url);
    await signUp(tab1, 'ada@example.com', 'Ada Lovelace');
    await createRoom(tab1, ['Carol'], 'Ada and Carol');

    // A second tab of the same browser resumes Ada: a spinner, then the chat, never the form.
    const tab2 = await context.newPage();
    tab2.on('pageerror', (error) => console.error('[page error]', error.message));
    await watchForSignInForm(tab2);
    await tab2.goto(url);
    await expect.poll(() => me(tab2).textContent()).toBe('Ada Lovelace');
    await rooms(tab2).filter({ hasText: 'Ada and Carol' }).waitFor();
    expect(await signInFormShown(tab2)).toBe(false);

    // "Switch person" in tab 2: the sign-in form as a panel; Bob signs up there.
    await tab2.getByRole('button', { name: 'Switch person' }).click();
    const panel = tab2.getByRole('dialog', { name: 'Switch person' });
    await panel.getByRole('button', { name: 'Sign up' }).click();
    await panel.getByLabel('Email').fill('bob@example.com');
    await panel.getByLabel('Display name').fill('Bob Stone');
    await panel.getByRole('button', { name: 'Sign up' }).click();
    await panel.waitFor({ state: 'detached' });
    await expect.poll(() => me(tab2).textContent()).toBe('Bob Stone');
    // Bob's rooms in tab 2 (none yet): nothing of Ada's.
    await expect.poll(() => rooms(tab2).allTextContents(), { timeout: 10_000 }).toEqual([]);
    await tab2.getByText('No rooms yet').waitFor();
    // Tab 1 still shows Ada, with her room.
    expect(await me(tab1).textContent()).toBe('Ada Lovelace');
    await rooms(tab1).filter({ hasText: 'Ada and Carol' }).waitFor();

    // Ada, in tab 1, opens a room with Bob and writes: it reaches Bob in tab 2.
    await createRoom(tab1, ['Bob'], 'Ada and Bob');
    await sendText(tab1, 'Hi Bob, from the other tab');
    await item(tab1, 'Hi Bob, from the other tab').locator('[aria-label="Sent"]').waitFor();
    await rooms(tab2).filter({ hasText: 'Ada and Bob' }).click();
    await item(tab2, 'Hi Bob, from the other tab').waitFor();
    expect(await item(tab2, 'Hi Bob, from the other tab').locator('.sender').textContent()).toBe('Ada Lovelace');
    expect(await rooms(tab2).count()).toBe(1);
    // Bob answers from tab 2, as Bob.
    await sendText(tab2, 'Hi Ada');
    await item(tab1, 'Hi Ada').waitFor();
    expect(await item(tab1, 'Hi Ada').locator('.sender').textContent()).toBe('Bob Stone');

    // Bob logs out in tab 2: tab 2 shows the sign-in form, tab 1 stays Ada's and still sends.
    await tab2.getByRole('button', { name: 'Log out' }).click();
    await tab2.getByRole('heading', { name: 'Log in' }).waitFor();
    await sendText(tab1, 'Still here');
    await item(tab1, 'Still here').locator('[aria-label="Sent"]').waitFor();
    expect(await me(tab1).textContent()).toBe('Ada Lovelace');
    expect(await tab1.getByRole('heading', { name: 'Log in' }).count()).toBe(0);

    // A new tab resumes the person still signed in here: Ada.
    const tab3 = await context.newPage();
    await watchForSignInForm(tab3);
    await tab3.goto(url);
    await expect.poll(() => me(tab3).textContent()).toBe('Ada Lovelace');
    expect(await signInFormShown(tab3)).toBe(false);
  }, 90_000);
});

describe('sign-in form', () => {
  it('offers the sample people, and says so plainly when this server has none', async () => {
    // startServer in tests makes no sample people.
    const { page } = await suite.openUser(suite.url());
    await page.getByRole('button', { name: 'Sign in as Grace (sample)' }).click();
    await page.getByRole('alert').filter({ hasText: 'grace@example.com has no account on this server: it has no sample people' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Log in' }).count()).toBe(1);
  });

  it('signs in as a sample person in one click when the server has them', async () => {
    const sampled = await startServer({ logLevel: 'silent', ...TEST_SERVER_OPTIONS, sample: true });
    try {
      const { page } = await suite.openUser(suite.url(sampled.wsUrl));
      await page.getByRole('button', { name: 'Sign in as Ada (sample)' }).click();
      await expect.poll(() => me(page).textContent()).toBe('Ada Lovelace');
      await rooms(page).filter({ hasText: 'Team' }).waitFor();
    } finally {
      await sampled.close();
    }
  });
});

describe('status line', () => {
  it('shows the shared worker, and this tab when the worker cannot load', async () => {
    const { page } = await suite.openUser(suite.url());
    await signUp(page, 'dora@example.com', 'Dora');
    await expect.poll(() => page.locator('[data-transport]').getAttribute('data-transport')).toBe('shared-worker');

    // The same build without its worker script (a 404): the SDK falls back to this tab.
    const dir = mkdtempSync(join(tmpdir(), 'chat-demo-noworker-'));
    cpSync(suite.builtDir, dir, { recursive: true });
    const workers = readdirSync(join(dir, 'assets')).filter((name) => /worker/i.test(name));
    expect(workers.length).toBeGreaterThan(0);
    for (const name of workers) rmSync(join(dir, 'assets', name));
    const broken = await serveDir(dir);
    try {
      const other = await suite.openUser(demoUrl(broken.url, suite.server.wsUrl));
      await signUp(other.page, 'eli@example.com', 'Eli');
      const line = other.page.locator('footer.status-line');
      await expect.poll(() => line.locator('[data-transport]').getAttribute('data-transport')).toBe('in-tab');
      expect(await line.textContent()).toContain('this tab has its own socket');
      // And it works: a room and a message.
      await createRoom(other.page, ['Dora'], 'Fallback');
      await sendText(other.page, 'through this tab');
      await item(other.page, 'through this tab').locator('[aria-label="Sent"]').waitFor();
    } finally {
      await broken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
